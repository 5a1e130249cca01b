"""factory_boy factories shared by the test packages: the one way tests make rows (add yours with
small edits)."""

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from extraction.models import Document, ExtractionProfile, ExtractionRun, UploadedFile
from tests.pdfgen import blank_pdf

SIMPLE_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "currency": {"type": ["string", "null"]},
        "issuer": {"type": ["string", "null"]},
    },
}
FINISHED = ("succeeded", "failed", "cancelled")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("pw-factory-123")


class DocumentFactory(factory.django.DjangoModelFactory):
    """A stored, valid PDF (unique bytes per document) as intake would have saved it."""

    class Meta:
        model = Document

    class Params:
        content = factory.Sequence(lambda n: blank_pdf(marker=f"factory-{n}"))

    owner = factory.SubFactory(UserFactory)
    original_name = factory.Sequence(lambda n: f"document-{n}.pdf")
    sha256 = factory.LazyAttribute(lambda doc: hashlib.sha256(doc.content).hexdigest())
    size_bytes = factory.LazyAttribute(lambda doc: len(doc.content))
    page_count = 1
    is_encrypted = False
    pdf_metadata = factory.LazyFunction(lambda: {"pdf_version": "1.3", "producer": "remorai tests"})
    # Saved by the model's FileField under the generated key (documents/<id>.pdf).
    file = factory.LazyAttribute(lambda doc: ContentFile(doc.content, name="upload.pdf"))


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExtractionProfile
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"profile-{n}")
    name = factory.LazyAttribute(lambda profile: profile.slug.replace("-", " ").title())
    instructions = "Extract the invoice fields."
    schema = factory.LazyFunction(lambda: dict(SIMPLE_SCHEMA))
    default_model = "gemini/gemini-2.5-flash"
    fallback_models = factory.LazyFunction(lambda: ["openai/gpt-4o-mini"])


class RunFactory(factory.django.DjangoModelFactory):
    """A run as the pipeline leaves it: `status` (default succeeded: the model and route used, a
    cost, started and finished two seconds apart); `model` is the requested model."""

    class Meta:
        model = ExtractionRun

    class Params:
        model = "gemini/gemini-2.5-flash"
        succeeded = factory.LazyAttribute(lambda run: run.status == "succeeded")
        finished = factory.LazyAttribute(lambda run: run.status in FINISHED)

    document = factory.SubFactory(DocumentFactory)
    profile = factory.SubFactory(ProfileFactory)
    profile_version = factory.LazyAttribute(lambda run: run.profile.version)
    instructions = factory.LazyAttribute(lambda run: run.profile.instructions)
    schema = factory.LazyAttribute(lambda run: run.profile.schema)
    status = "succeeded"
    requested_model = factory.LazyAttribute(lambda run: run.model)
    model_used = factory.LazyAttribute(lambda run: run.model if run.succeeded else "")
    route = factory.LazyAttribute(lambda run: "proxy" if run.succeeded else "")
    queued_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(lambda run: run.queued_at if run.finished else None)
    finished_at = factory.LazyAttribute(
        lambda run: run.queued_at + timedelta(seconds=2) if run.finished else None
    )
    cost_usd = factory.LazyAttribute(lambda run: Decimal("0.001") if run.succeeded else None)


class RemoteCopyFactory(factory.django.DjangoModelFactory):
    """A document's copy at a provider (UploadedFile), active and uploaded now by default."""

    class Meta:
        model = UploadedFile

    document = factory.SubFactory(DocumentFactory)
    route = "direct"
    provider = "gemini"
    model_group = "gemini/gemini-2.5-flash"
    remote_id = factory.LazyFunction(lambda: f"files/{uuid.uuid4().hex[:12]}")
    bytes = 1000
    uploaded_at = factory.LazyFunction(timezone.now)
    state = "active"
