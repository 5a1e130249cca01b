"""Fixtures for the staff & ops tests: documents, runs and remote copies made directly."""

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from extraction.models import Document, ExtractionProfile, ExtractionRun, UploadedFile
from tests.fixtures.gateways import FakeGateway

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


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(username="ops", password="pw-ops-123")


@pytest.fixture
def profile(db):
    return ExtractionProfile.objects.create(
        slug="ops-invoice",
        name="Ops invoice",
        instructions="Extract the invoice fields.",
        schema=SIMPLE_SCHEMA,
        default_model="gemini/gemini-2.5-flash",
        fallback_models=["openai/gpt-4o-mini"],
    )


def make_document(owner, *, name="doc.pdf", content=None, sha256=None, with_file=True):
    content = content if content is not None else f"%PDF-1.4 {uuid.uuid4()}".encode()
    doc = Document(
        owner=owner,
        original_name=name,
        sha256=sha256 or hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
        page_count=1,
    )
    if with_file:
        doc.file.save(name, ContentFile(content), save=False)
    else:
        doc.file.name = f"documents/{doc.id.hex}.pdf"
    doc.save()
    return doc


def make_run(document, profile, *, status="succeeded", model="gemini/gemini-2.5-flash", **extra):
    now = timezone.now()
    values = {
        "document": document,
        "profile": profile,
        "profile_version": profile.version,
        "instructions": profile.instructions,
        "schema": profile.schema,
        "requested_model": model,
        "model_used": model if status == "succeeded" else "",
        "route": "proxy" if status == "succeeded" else "",
        "status": status,
        "queued_at": now,
    }
    if status in ("succeeded", "failed", "cancelled"):
        values.update(started_at=now, finished_at=now + timedelta(seconds=2))
    if status == "succeeded":
        values.setdefault("cost_usd", Decimal("0.001"))
    values.update(extra)
    return ExtractionRun.objects.create(**values)


def make_remote(document, *, state="active", provider="gemini", route="direct", **extra):
    values = {
        "document": document,
        "route": route,
        "provider": provider,
        "model_group": "gemini/gemini-2.5-flash",
        "remote_id": f"files/{uuid.uuid4().hex[:12]}",
        "bytes": 1000,
        "uploaded_at": timezone.now(),
        "state": state,
    }
    values.update(extra)
    return UploadedFile.objects.create(**values)


@pytest.fixture
def fake_gateway(gateways):
    """One FakeGateway for every route and provider."""
    return gateways.use(FakeGateway())
