"""remorai.filter_backends.FilterBackend: django-filter, skipped when no filter is named."""

import pytest

from extraction.api.runs_filters import ExtractionRunFilter
from tests.factories import DocumentFactory, ProfileFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(monkeypatch):
    """How many ExtractionRunFilter instances requests built."""
    count = []
    original = ExtractionRunFilter.__init__

    def init(self, *args, **kwargs):
        count.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ExtractionRunFilter, "__init__", init)
    return count


def test_a_request_naming_no_filter_builds_no_filterset(api, built):
    assert api.get("/api/extractions/?page=1&page_size=5").status_code == 200
    assert built == []


def test_a_named_filter_still_filters_and_validates(api, user, built):
    document = DocumentFactory(owner=user)
    RunFactory(document=document, profile=ProfileFactory(slug="invoice"), status="failed")
    RunFactory(document=document, profile=ProfileFactory(slug="summary"))
    body = api.get("/api/extractions/?status=failed").json()
    assert [r["status"] for r in body["results"]] == ["failed"]
    assert [
        r["profile"] for r in api.get("/api/extractions/?profile=summary").json()["results"]
    ] == ["summary"]
    bad = api.get("/api/extractions/?created_after=yesterday")
    assert bad.status_code == 400 and "created_after" in bad.json()["errors"]
    assert len(built) == 3
