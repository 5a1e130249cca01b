"""The list serializer's lean to_representation is byte-for-byte the generic DRF one.

The oracle is DRF's own Serializer.to_representation over the same serializer's fields (what the
list returned before the fast path) and the detail endpoint (the same run, plus two keys)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from extraction import selectors
from extraction.api.runs_serializers import ExtractionRunSerializer
from extraction.models import ExtractionRun, Route, Transport, Trigger
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = pytest.mark.django_db

Status = ExtractionRun.Status


def _run(document, profile, **fields):
    return ExtractionRun.objects.create(
        document=document,
        profile=profile,
        profile_version=profile.version,
        instructions="x",
        schema={},
        requested_model="gemini/gemini-2.5-flash",
        **fields,
    )


@pytest.fixture
def varied_runs(user):
    invoice, summary = seeded_profile("invoice"), seeded_profile("summary")
    document = make_document(user)
    now = timezone.now()
    succeeded = _run(
        document,
        invoice,
        status=Status.SUCCEEDED,
        result={"total": "12.50", "line_items": [{"description": "ä €", "amount": 1.5}]},
        raw_output='{"total": "12.50"}',
        fallback_models=["openai/gpt-4o-mini", "anthropic/claude-haiku"],
        model_used="gemini/gemini-2.5-flash",
        route=Route.PROXY,
        transport=Transport.INLINE,
        simulated=True,
        input_tokens=1234,
        output_tokens=56,
        document_tokens=1000,
        cost_usd=Decimal("0.001234"),
        queued_at=now,
        started_at=now + timedelta(seconds=1, microseconds=123456),
        finished_at=now + timedelta(seconds=3, microseconds=7),
        heartbeat_at=now + timedelta(seconds=2),
        attempt_count=2,
        trigger=Trigger.ADMIN,
    )
    failed = _run(
        document,
        summary,
        status=Status.FAILED,
        error_code="provider_retryable",
        error_message="Upstream said no (HTTP 503).",
        error_provider_code="server_error",
        route=Route.DIRECT,
        cost_usd=Decimal("0"),
        started_at=now,
        finished_at=now + timedelta(milliseconds=1500),
        attempt_count=3,
        redo_of=succeeded,
        cancel_requested=True,
    )
    queued = _run(document, invoice, status=Status.QUEUED, not_before=now + timedelta(minutes=5))
    cancelled = _run(document, summary, status=Status.CANCELLED, cost_usd=Decimal("12.5"))
    return [succeeded, failed, queued, cancelled]


def _oracle(runs, request):
    """The generic DRF path: one Field object per key, as the list used to serialise."""
    root = ExtractionRunSerializer(runs, many=True, context={"request": request})
    child = root.child
    return [serializers.ModelSerializer.to_representation(child, run) for run in runs]


def test_list_page_is_byte_for_byte_the_generic_serializer(api, user, varied_runs):
    response = api.get("/api/extractions/?page_size=50")
    assert response.status_code == 200
    request = APIRequestFactory().get("/api/extractions/?page_size=50")
    runs = list(selectors.extraction_run_list(owner=user))
    assert len(runs) == len(varied_runs)
    expected = JSONRenderer().render(_oracle(runs, request))
    assert b'"results":' + expected in response.content
    # And through the same serializer object, not only through the endpoint.
    fast = ExtractionRunSerializer(runs, many=True, context={"request": request}).data
    assert JSONRenderer().render(fast) == expected
    assert [list(item) for item in fast] == [list(item) for item in _oracle(runs, request)]


def test_list_items_match_the_detail_endpoint(api, varied_runs):
    listed = {item["id"]: item for item in api.get("/api/extractions/").json()["results"]}
    for run in varied_runs:
        detail = api.get(f"/api/extractions/{run.pk}/").json()
        for detail_only in ("reviewed_result", "reviewed_by", "reviewed_at", "final", "segments"):
            del detail[detail_only]
        del detail["raw_output"], detail["attempts"], detail["evidence"], detail["checks"]
        item = listed[str(run.pk)]
        assert list(item) == list(detail)
        assert item == detail


def test_sample_values_keep_their_formats(api, varied_runs):
    items = {i["id"]: i for i in api.get("/api/extractions/").json()["results"]}
    succeeded = items[str(varied_runs[0].pk)]
    assert succeeded["cost_usd"] == "0.001234"
    assert succeeded["url"] == f"http://testserver/api/extractions/{varied_runs[0].pk}/"
    assert succeeded["timings"]["created_at"].endswith("Z")
    assert succeeded["usage"] == {
        "input_tokens": 1234,
        "output_tokens": 56,
        "document_tokens": 1000,
    }
    failed = items[str(varied_runs[1].pk)]
    assert failed["error"] == {
        "code": "provider_retryable",
        "message": "Upstream said no (HTTP 503).",
        "provider_code": "server_error",
    }
    assert failed["redo_of"] == str(varied_runs[0].pk)
    assert items[str(varied_runs[3].pk)]["cost_usd"] == "12.500000"
    queued = items[str(varied_runs[2].pk)]
    assert queued["cost_usd"] is None and queued["error"] is None and queued["route"] == ""
