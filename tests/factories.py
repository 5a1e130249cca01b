"""factory_boy factories shared by the test packages (add yours with small edits)."""

import hashlib

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from extraction.models import Document
from tests.pdfgen import blank_pdf


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
