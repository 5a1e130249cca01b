"""End to end through a REAL qcluster process on PostgreSQL, with the provider simulator over
real HTTP: upload -> extract -> succeeded; a worker SIGKILLed mid-call; duplicate delivery;
cancel; 409; idempotency; expired remote file; a 300-page PDF; the proxy going down mid-run."""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.tasks import async_task

from extraction.models import ExtractionAttempt, ExtractionProfile, ExtractionRun, UploadedFile
from extraction.services.runs import (
    extraction_run_enqueue,
    extraction_run_retry,
)
from tests import pdfgen
from tests.extraction.pipeline import INVOICE_PDF, make_document, seeded_profile
from tests.extraction.qcluster import (
    QCluster,
    TcpForwarder,
    create_cache_table,
    direct_environment,
    require_postgresql,
    wait_for,
)

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]

Status = ExtractionRun.Status
TERMINAL = ExtractionRun.TERMINAL_STATUSES


@pytest.fixture
def cluster(simulator, tmp_path, monkeypatch):
    """Start a qcluster (direct routes to the simulator, plus `extra` env); stopped after."""
    require_postgresql()
    create_cache_table()
    # Enqueue into the ORM broker of the test database instead of running in this process.
    monkeypatch.setattr(Conf, "SYNC", False)
    started = []

    def start(**extra):
        log = tmp_path / f"qcluster-{len(started)}.log"
        qc = QCluster(log, {**direct_environment(simulator), **extra})
        started.append(qc)
        return qc

    yield start
    for qc in started:
        qc.stop()


def wait_finished(run_id, timeout=60) -> ExtractionRun:
    return wait_for(
        lambda: ExtractionRun.objects.filter(pk=run_id, status__in=TERMINAL).first(),
        timeout=timeout,
        what=f"run {run_id} to finish",
    )


def generate_calls(simulator, provider=None) -> int:
    return len(simulator.requests(provider=provider, operation="generate"))


def enqueue(document, profile_slug="invoice", **kw):
    return extraction_run_enqueue(
        document=document, profile=seeded_profile(profile_slug), trigger="command", **kw
    )


def test_upload_then_extract_succeeds_with_idempotency_and_409(api, cluster, simulator):
    cluster()
    with INVOICE_PDF.open("rb") as fh:
        upload = api.post("/api/documents/", {"file": fh}, format="multipart")
    assert upload.status_code == 201, upload.content
    url = f"/api/documents/{upload.json()['id']}/extractions/"
    seeded_profile("invoice")
    simulator.latency(1.0, operation="generate")

    first = api.post(url, {"profile": "invoice"}, format="json", HTTP_IDEMPOTENCY_KEY="e2e-1")
    assert first.status_code == 202, first.content
    replay = api.post(url, {"profile": "invoice"}, format="json", HTTP_IDEMPOTENCY_KEY="e2e-1")
    assert replay.status_code == 202 and replay.json() == first.json()
    conflict = api.post(url, {"profile": "invoice"}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["active_run_id"] == first.json()["id"]

    run = wait_finished(first.json()["id"])
    body = api.get(first["Location"]).json()
    assert body["status"] == "succeeded", (body["error"], body["attempts"])
    assert body["simulated"] is True
    assert (body["route"], body["model_used"]) == ("direct", "gemini/gemini-2.5-flash"), body[
        "attempts"
    ]
    assert set(body["result"]) >= {"invoice_number", "total", "line_items"}
    assert body["usage"]["input_tokens"] and body["cost_usd"] is not None
    assert [a["outcome"] for a in body["attempts"]][-1] == "ok"
    assert run.attempt_count == 1
    assert ExtractionRun.objects.count() == 1


def test_worker_sigkilled_mid_call_the_run_still_ends_exactly_once(cluster, simulator, user):
    qc = cluster()
    # The sweeper's schedule (the migration's row is flushed by transactional tests).
    Schedule.objects.update_or_create(
        name="sweep-stale-runs",
        defaults={
            "func": "extraction.tasks.sweep_stale_runs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    simulator.latency(4.0, operation="generate")
    run = enqueue(make_document(user))
    pid = qc.claimed(run.pk, 1, timeout=30)
    wait_for(
        lambda: UploadedFile.objects.filter(state="active").exists(),
        timeout=30,
        what="the upload before the generate call",
    )
    time.sleep(1.0)  # the generate call is in flight (the simulator logs it when it ends)
    assert generate_calls(simulator) == 0
    os.kill(pid, signal.SIGKILL)  # a real signal to the worker process, mid-call
    killed_at = time.monotonic()

    qc.claimed(run.pk, 2, timeout=150)
    moving_again_after = time.monotonic() - killed_at
    assert moving_again_after < 120, moving_again_after
    run = wait_finished(run.pk, timeout=60)
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert run.attempt_count == 2
    finished = (run.finished_at, run.result)
    time.sleep(2)
    run.refresh_from_db()
    assert (run.finished_at, run.result) == finished  # ended once, never rewritten
    assert generate_calls(simulator) == 2
    ok_generations = ExtractionAttempt.objects.filter(run=run, operation="generate", outcome="ok")
    assert ok_generations.count() == 1
    assert "heartbeat stopped; re-queued" in qc.log()


def test_duplicate_delivery_gives_one_result(cluster, simulator, user):
    qc = cluster(Q_WORKERS="2")  # a duplicate can run while the first delivery is running
    simulator.latency(3.0, operation="generate")
    run = enqueue(make_document(user))
    qc.claimed(run.pk, 1, timeout=30)
    for _ in range(2):  # the same task delivered twice more, during the first one's call
        async_task("extraction.tasks.run_extraction", str(run.pk))
    wait_for(lambda: f"run {run.pk}: nothing to claim" in qc.log(), timeout=10, what="a duplicate")
    # That duplicate came while the first delivery was still running.
    assert ExtractionRun.objects.get(pk=run.pk).status == Status.RUNNING
    run = wait_finished(run.pk)
    assert run.status == Status.SUCCEEDED
    wait_for(
        lambda: qc.log().count(f"run {run.pk}: nothing to claim") == 2,
        timeout=30,
        what="both duplicates to be delivered",
    )
    assert generate_calls(simulator) == 1
    assert ExtractionAttempt.objects.filter(run=run, operation="generate").count() == 1
    assert run.attempt_count == 1


def test_cancel_a_running_run(cluster, simulator, user, api):
    qc = cluster()
    simulator.latency(3.0, operation="generate")
    run = enqueue(make_document(user))
    qc.claimed(run.pk, 1, timeout=30)
    response = api.post(f"/api/extractions/{run.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["cancel_requested"] is True
    run = wait_finished(run.pk)
    assert run.status == Status.CANCELLED and run.result is None


def test_expired_remote_file_is_uploaded_again(cluster, simulator, user):
    cluster()
    document = make_document(user)
    first = wait_finished(enqueue(document).pk)
    assert first.status == Status.SUCCEEDED
    assert UploadedFile.objects.filter(document=document, state="active").count() == 1
    simulator.expire(provider="gemini")

    again = wait_finished(extraction_run_retry(run=first).pk)
    assert again.status == Status.SUCCEEDED, (again.error_code, again.error_message)
    states = sorted(UploadedFile.objects.filter(document=document).values_list("state", flat=True))
    assert states == ["active", "expired"]
    uploads = simulator.requests(provider="gemini", operation="upload")
    assert len([r for r in uploads if "upload_id=" not in r["path"]]) == 2  # resumable: 2 calls
    assert ExtractionAttempt.objects.filter(run=again, outcome="file_gone").exists()


def test_a_300_page_pdf_is_routed_to_gemini(cluster, simulator, user, tmp_path):
    cluster()
    document = make_document(
        user, pdfgen.write_letter_pdf(tmp_path / "three-hundred-pages.pdf", 300)
    )
    assert document.page_count == 300
    # summary: one call when a model takes the document (invoice lines would be segmented)
    run = wait_finished(enqueue(document, "summary", model="openai/gpt-4o").pk)
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert run.model_used == "gemini/gemini-2.5-flash"
    assert generate_calls(simulator, "openai") == 0
    assert generate_calls(simulator, "anthropic") == 0

    small_models_only = ExtractionProfile.objects.create(
        slug="small-models",
        name="Small models",
        instructions="Summarise.",
        schema=seeded_profile("summary").schema,
        default_model="openai/gpt-4o",
        fallback_models=["anthropic/claude-sonnet-4-6"],
    )
    run = extraction_run_enqueue(document=document, profile=small_models_only, trigger="command")
    run = wait_finished(run.pk)
    assert (run.status, run.error_code) == (Status.FAILED, "document_too_large_for_models")
    assert "100 pages" in run.error_message


@pytest.mark.proxy
def test_proxy_down_mid_run_falls_back_to_direct_with_its_own_upload(
    cluster, simulator, litellm_proxy, user
):
    parts = urlsplit(litellm_proxy.url)
    forwarder = TcpForwarder(parts.hostname, parts.port)
    cluster(LITELLM_BASE_URL=forwarder.url + parts.path, LITELLM_API_KEY=litellm_proxy.key)
    simulator.latency(3.0, operation="generate")
    document = make_document(user)
    run = enqueue(document)
    wait_for(
        lambda: UploadedFile.objects.filter(document=document, route="proxy", state="active"),
        timeout=60,
        what="the upload through the proxy",
    )
    time.sleep(1.0)  # the proxied generate call is now in flight (the simulator takes 3 s)
    assert generate_calls(simulator) == 0
    forwarder.down()  # the proxy goes away mid-call

    run = wait_finished(run.pk, timeout=90)
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert (run.route, run.model_used) == ("direct", "gemini/gemini-2.5-flash")
    copies = dict(
        UploadedFile.objects.filter(document=document, state="active").values_list(
            "route", "remote_id"
        )
    )
    assert set(copies) == {"proxy", "direct"}
    assert copies["proxy"] != copies["direct"]  # ids do not carry over: the direct route uploaded
    routes = list(ExtractionAttempt.objects.filter(run=run).values_list("route", "outcome"))
    assert ("proxy", "ok") in routes  # its upload
    assert any(r == "proxy" and o != "ok" for r, o in routes)
    assert routes[-1] == ("direct", "ok")


def test_retry_later_schedules_the_run_instead_of_sleeping(cluster, simulator, user):
    qc = cluster(LLM_MAX_RETRY_WAIT_SECONDS="1")
    only_gemini = ExtractionProfile.objects.create(
        slug="only-gemini",
        name="Only Gemini",
        instructions="Summarise.",
        schema=seeded_profile("summary").schema,
        default_model="gemini/gemini-2.5-flash",
        fallback_models=[],
    )
    simulator.fault(provider="gemini", operation="generate", status=429, retry_delay="4s", count=1)
    run = extraction_run_enqueue(
        document=make_document(user), profile=only_gemini, trigger="command"
    )
    postponed = wait_for(
        lambda: ExtractionRun.objects.filter(pk=run.pk, error_code="retry_later").first(),
        timeout=30,
        what="the run to be postponed",
    )
    assert postponed.status == Status.QUEUED and postponed.not_before
    assert Schedule.objects.filter(
        func="extraction.tasks.run_extraction", schedule_type=Schedule.ONCE
    ).exists()
    # No worker slept through the wait: the cluster's scheduler picks the run up when it is due.
    run = wait_finished(run.pk, timeout=90)
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert run.started_at >= postponed.not_before
    assert run.attempt_count == 1  # a postponement is not a lost attempt
    assert ExtractionAttempt.objects.filter(run=run, http_status=429).exists()
    assert qc.log().count(f"run {run.pk} claimed") == 2
