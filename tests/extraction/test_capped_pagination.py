"""The extractions list counts only as far as it needs (no COUNT(*) over a whole history)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction.models import ExtractionRun
from remorai.pagination import CappedCountPagination
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_runs(user):
    profile = seeded_profile("invoice")
    document = make_document(user)
    for _ in range(5):
        ExtractionRun.objects.create(
            document=document, profile=profile, profile_version=1, instructions="x", schema={},
            requested_model=profile.default_model, status="succeeded",
        )  # fmt: skip


def test_count_is_exact_below_the_cap(api, five_runs):
    body = api.get("/api/extractions/?page_size=2").json()
    assert body["count"] == 5 and body["count_capped"] is False
    assert len(body["results"]) == 2 and body["next"]


def test_count_stops_past_the_cap_and_deeper_pages_stay_reachable(api, five_runs, monkeypatch):
    monkeypatch.setattr(CappedCountPagination, "count_cap", 2)
    first = api.get("/api/extractions/?page_size=1").json()
    assert first["count"] == 3 and first["count_capped"] is True and first["next"]
    # A page past the cap counts as far as that page (plus one), and is served.
    fourth = api.get("/api/extractions/?page_size=1&page=4").json()
    assert fourth["count"] == 5 and fourth["count_capped"] is True and fourth["next"]
    last = api.get("/api/extractions/?page_size=1&page=5").json()
    assert last["count"] == 5 and last["count_capped"] is False and last["next"] is None
    assert len(last["results"]) == 1
    assert api.get("/api/extractions/?page_size=1&page=9").status_code == 404


def test_the_count_query_is_limited(api, five_runs):
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/extractions/?page_size=2").status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "extraction_extractionrun" in q["sql"]
              and "COUNT(" in q["sql"].upper()]  # fmt: skip
    assert len(counts) == 1 and "LIMIT 1001" in counts[0]


def test_a_page_and_its_count_are_one_query(api, five_runs):
    with CaptureQueriesContext(connection) as ctx:
        body = api.get("/api/extractions/?page_size=2&page=2").json()
    runs = [q["sql"] for q in ctx.captured_queries if "extraction_extractionrun" in q["sql"]]
    assert len(runs) == 1, runs
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"] and body["previous"]


def test_an_empty_page_counts_on_its_own(api, five_runs):
    assert api.get("/api/extractions/?status=failed").json() == {
        "count": 0, "count_capped": False, "next": None, "previous": None, "results": [],
    }  # fmt: skip
    assert api.get("/api/extractions/?page=2").status_code == 404
    assert api.get("/api/extractions/?page=0").status_code == 404
    assert api.get("/api/extractions/?page=x").status_code == 404
