"""Helpers shared by the pipeline tests: documents from real PDFs, profiles, a fake extract."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from pypdf import PdfReader

from extraction.models import Document, ExtractionProfile
from extraction.profile_seeds import PROFILES, SEGMENTING
from llm.types import Attempt, Generation, RemoteFile, Usage

REPO_ROOT = Path(__file__).resolve().parents[2]
PDFS = REPO_ROOT / "tests" / "fixtures" / "pdfs"
INVOICE_PDF = PDFS / "good" / "camelot-example.pdf"


def make_document(owner, path: Path = INVOICE_PDF, *, name: str | None = None) -> Document:
    data = path.read_bytes()
    doc = Document(
        owner=owner,
        original_name=name or path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        page_count=len(PdfReader(path, strict=False).pages),
    )
    doc.file.save(path.name, ContentFile(data), save=False)
    doc.save()
    return doc


def seeded_profile(slug: str = "invoice") -> ExtractionProfile:
    """The seeded profile (re-created when a transactional test flushed the migration's rows)."""
    spec = next(p for p in PROFILES if p["slug"] == slug)
    defaults = {**spec, "segmenting": SEGMENTING.get(slug, {})}
    profile, _ = ExtractionProfile.objects.get_or_create(slug=slug, defaults=defaults)
    return profile


@dataclass(frozen=True)
class Outcome:
    """Same shape as llm.service.ExtractionOutcome."""

    generation: Generation
    data: Any
    route: str
    provider: str
    model_used: str
    attempts: tuple[Attempt, ...]
    repaired: bool = False


def attempt(
    *, route="proxy", provider="gemini", model="gemini/gemini-2.5-flash", outcome="ok", **kw
) -> Attempt:
    return Attempt(
        route=route,
        provider=provider,
        model=model,
        operation=kw.pop("operation", "generate"),
        started_at=datetime.now(UTC),
        latency_ms=kw.pop("latency_ms", 12),
        outcome=outcome,
        **kw,
    )


@dataclass
class FakeExtract:
    """Stands in for llm.service.extract: uploads through the cache, reports attempts."""

    data: Any = field(default_factory=lambda: {"invoice_number": "INV-1", "total": 10.0})
    route: str = "proxy"
    provider: str = "gemini"
    raises: Exception | None = None
    before_return: Any = None  # callable(kwargs) run mid-call (e.g. cancel the run)
    calls: list = field(default_factory=list)
    uploads: list = field(default_factory=list)

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        model = kwargs["model"]
        if kwargs["transport"] == "file":

            def upload():
                self.uploads.append((self.route, self.provider))
                return RemoteFile(id=f"file-{len(self.uploads)}", bytes=kwargs["size_bytes"])

            kwargs["files"].get_or_upload(
                route=self.route, provider=self.provider, model=model, upload=upload
            )
        if self.before_return:
            self.before_return(kwargs)
        if not kwargs["should_continue"]():
            from llm import errors

            cancelled = getattr(errors, "Cancelled", errors.LLMError)
            raise cancelled("cancelled")
        usage = Usage(input_tokens=100, output_tokens=20, document_tokens=80)
        done = attempt(
            route=self.route,
            provider=self.provider,
            model=model,
            usage=usage,
            cost_usd=Decimal("0.0012"),
            cost_source="proxy" if self.route == "proxy" else "catalog",
        )
        kwargs["on_attempt"](done)
        if self.raises is not None:
            self.raises.attempts = (done,)
            raise self.raises
        generation = Generation(text="{}", model=model, usage=usage, data=self.data, simulated=True)
        return Outcome(
            generation=generation,
            data=self.data,
            route=self.route,
            provider=self.provider,
            model_used=model,
            attempts=(done,),
        )
