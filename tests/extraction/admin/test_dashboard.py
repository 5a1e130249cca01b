from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from extraction.dashboard import dashboard_data
from extraction.models import ExtractionAttempt, ExtractionProfile, ExtractionRun
from tests.factories import DocumentFactory, RemoteCopyFactory, RunFactory

pytestmark = pytest.mark.django_db

A, B = "gemini/gemini-2.5-flash", "openai/gpt-4o-mini"


def _run(doc, profile, *, created, status="succeeded", seconds=None, queued_at=None, **extra):
    run = RunFactory(document=doc, profile=profile, status=status, **extra)
    fields = {"created_at": created}
    if seconds is not None:
        fields.update(started_at=created, finished_at=created + timedelta(seconds=seconds))
    if queued_at is not None:
        fields["queued_at"] = queued_at
    ExtractionRun.objects.filter(pk=run.pk).update(**fields)
    return run


@pytest.fixture
def known(user, profile):
    """A known set: numbers below are counted by hand from it."""
    now = timezone.now()
    today, yesterday = now - timedelta(minutes=1), now - timedelta(days=1)
    other_profile = ExtractionProfile.objects.create(
        slug="other", name="Other", instructions="x", schema={"type": "object"}, default_model=A
    )
    docs = [DocumentFactory(owner=user, original_name=f"d{i}.pdf") for i in range(10)]
    _run(docs[0], profile, created=yesterday, seconds=2, cost_usd=Decimal("0.010"))
    fell_back = _run(
        docs[1], profile, created=yesterday, seconds=4, cost_usd=Decimal("0.020"), route="direct"
    )
    for outcome, route in (("fallback", "proxy"), ("ok", "direct")):
        ExtractionAttempt.objects.create(
            run=fell_back,
            route=route,
            provider="gemini",
            model=A,
            started_at=yesterday,
            outcome=outcome,
        )
    # The direct route as the plan's first route (no proxy configured) is no fallback.
    _run(
        docs[9],
        profile,
        created=yesterday,
        route="direct",
        cost_usd=None,
        started_at=None,
        finished_at=None,
    )
    _run(
        docs[2],
        other_profile,
        created=today,
        seconds=10,
        cost_usd=Decimal("0.005"),
        model_used=B,
    )
    _run(docs[3], profile, created=today, seconds=6, cost_usd=Decimal("0.001"))
    _run(docs[4], profile, created=today, status="failed")
    oldest = _run(
        docs[5], profile, created=today, status="queued", queued_at=now - timedelta(minutes=5)
    )
    _run(docs[6], profile, created=today, status="queued", queued_at=now - timedelta(minutes=1))
    _run(docs[7], profile, created=today, status="running")
    _run(docs[8], profile, created=now - timedelta(days=20), seconds=99, cost_usd=Decimal("9"))
    RemoteCopyFactory(document=docs[0], bytes=1000)
    RemoteCopyFactory(document=docs[1], bytes=3000)
    RemoteCopyFactory(document=docs[2], bytes=500, route="proxy", provider="openai")
    RemoteCopyFactory(document=docs[3], state="expired", bytes=7)
    RemoteCopyFactory(document=docs[4], state="deleted", bytes=8)
    return {"now": now, "today": today.date(), "yesterday": yesterday.date(), "oldest": oldest}


def test_dashboard_figures_match_the_known_set(known):
    data = dashboard_data("7d", now=known["now"])
    per_day = data["runs_per_day"]
    assert len(per_day) == 8  # seven days back, both ends included
    assert per_day[known["yesterday"]] == {
        "queued": 0,
        "running": 0,
        "succeeded": 3,
        "failed": 0,
        "cancelled": 0,
        "batched": 0,
    }
    assert per_day[known["today"]] == {
        "queued": 2,
        "running": 1,
        "succeeded": 2,
        "failed": 1,
        "cancelled": 0,
        "batched": 0,
    }
    # One attempt fell back; the run on the direct route as first route did not.
    assert data["fallback_per_day"][known["yesterday"]] == (3, 1)
    assert data["fallback_per_day"][known["today"]] == (2, 1)  # another model answered
    assert data["cost_by_model"] == [(A, Decimal("0.031"), 3), (B, Decimal("0.005"), 1)]
    assert data["cost_by_profile"] == [
        ("ops-invoice", Decimal("0.031"), 3),
        ("other", Decimal("0.005"), 1),
    ]
    latency = {row["model"]: row for row in data["latency"]}
    assert (latency[A]["runs"], latency[A]["p50"], latency[A]["p95"]) == (3, 4.0, 6.0)
    assert (latency[B]["p50"], latency[B]["p95"]) == (10.0, 10.0)
    queue = data["queue"]
    assert (queue["queued"], queue["running"]) == (2, 1)
    assert queue["oldest_queued_run"] == known["oldest"].pk
    assert 299 <= queue["oldest_queued_age_seconds"] <= 301
    assert data["files_by_state"] == {
        "uploading": 0,
        "active": 3,
        "expired": 1,
        "deleted": 1,
        "failed": 0,
    }
    assert data["bytes_per_provider"] == [("direct/gemini", 4000, 2), ("proxy/openai", 500, 1)]


def test_wider_range_includes_older_runs(known):
    data = dashboard_data("30d", now=known["now"])
    assert dict((m, c) for m, c, _ in data["cost_by_model"])[A] == Decimal("9.031")


def test_dashboard_page_renders_inline_svg_with_the_numbers(admin_client, known):
    response = admin_client.get(reverse("admin-dashboard") + "?range=7d")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 7 and "<script" not in html.split("<body")[1].split("</body>")[0]
    day = known["today"].strftime("%m-%d")
    assert f'data-series="succeeded" data-column="{day}" data-value="2"' in html
    assert f'data-series="failed" data-column="{day}" data-value="1"' in html
    assert f'data-column="{day}" data-value="0.5000"' in html  # fallback rate
    assert f'<tr data-model="{A}"><td>{A}</td><td>3</td><td class="p50">4.00</td>' in html
    assert 'data-kpi="queue-depth">queue depth<b>2</b>' in html
    assert 'class="current" data-range="7d"' in html
    assert 'id="simulated-note"' not in html  # no simulated run in the known set


def test_dashboard_says_when_figures_include_simulated_runs(admin_client, user, profile):
    RunFactory(document=DocumentFactory(owner=user), profile=profile, simulated=True)
    html = admin_client.get(reverse("admin-dashboard")).content.decode()
    assert "SIMULATED: 1 run in this range was answered by the provider simulator" in html


def test_dashboard_is_staff_only(client, user):
    client.force_login(user)
    response = client.get(reverse("admin-dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_dashboard_renders_with_no_data(admin_client):
    for key in ("24h", "7d", "30d", "90d", "bogus"):
        assert admin_client.get(reverse("admin-dashboard") + f"?range={key}").status_code == 200


def test_dashboard_queries_do_not_grow_with_the_number_of_runs(known, user, profile):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        dashboard_data("7d", now=known["now"])
    for i in range(30):
        more = DocumentFactory(owner=user, original_name=f"more-{i}.pdf")
        _run(more, profile, created=known["now"], seconds=i + 1)
    with CaptureQueriesContext(connection) as after:
        data = dashboard_data("7d", now=known["now"] + timedelta(seconds=1))
    assert len(after.captured_queries) == len(before.captured_queries)
    assert {row["model"]: row["runs"] for row in data["latency"]}[A] == 33


def test_dashboard_shows_the_share_of_runs_needing_review_per_model(admin_client, user, profile):
    now = timezone.now()
    docs = [DocumentFactory(owner=user, original_name=f"r{i}.pdf") for i in range(5)]
    for doc, model, flagged in ((docs[0], A, True), (docs[1], A, False), (docs[2], A, False)):
        _run(doc, profile, created=now, model_used=model, needs_review=flagged)
    _run(docs[3], profile, created=now, model_used=B, needs_review=True)
    _run(docs[4], profile, created=now, status="failed", model_used=B)  # not a succeeded run
    share = dashboard_data("7d", now=now)["review_share"]
    assert share == [
        {"model": B, "runs": 1, "needs_review": 1, "share": 1.0},
        {"model": A, "runs": 3, "needs_review": 1, "share": 1 / 3},
    ]
    html = admin_client.get(reverse("admin-dashboard")).content.decode()
    assert (
        f'<tr data-model="{A}"><td>{A}</td><td>3</td><td>1</td><td class="share">33 %</td>' in html
    )
    assert "needs_review__exact=1" in html


def test_dashboard_shows_open_batches_pending_items_and_money_saved_per_day(
    admin_client, user, profile
):
    from extraction.models import ExtractionBatch

    now = timezone.now()
    open_job = ExtractionBatch.objects.create(provider="openai", model=B, status="running")
    for i in range(3):
        RunFactory(
            document=DocumentFactory(owner=user, original_name=f"b{i}.pdf"),
            profile=profile,
            status="batched",
            batch=open_job,
        )
    for days, saved in ((0, "0.25"), (0, "0.50"), (1, "1.00"), (40, "9.00")):
        ExtractionBatch.objects.create(
            provider="openai",
            model=B,
            status="done",
            cost_usd=Decimal(saved),
            savings_usd=Decimal(saved),
            finished_at=now - timedelta(days=days, minutes=1),
        )
    batches = dashboard_data("7d", now=now)["batches"]
    assert (batches["open"], batches["pending"]) == (1, 3)
    assert batches["saved"] == Decimal("1.75")  # the 40-day-old job is outside the range
    today = (now - timedelta(minutes=1)).date()
    assert batches["saved_per_day"][today] == Decimal("0.75")
    html = admin_client.get(reverse("admin-dashboard") + "?range=7d").content.decode()
    assert 'data-kpi="open-batches">open batch jobs: <b>1</b>' in html
    assert 'data-kpi="batch-pending">runs waiting in them: <b>3</b>' in html
    assert f'data-series="saved" data-column="{today.strftime("%m-%d")}" data-value="0.75' in html
