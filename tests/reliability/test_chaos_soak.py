"""Chaos soak: N extractions through the real pipeline (API -> ORM broker -> a real qcluster
process on PostgreSQL -> the simulator over HTTP) while the simulator injects random faults and
the worker is SIGKILLed. Every run must end terminal, none lost, none written twice, attempts
recorded, at most one live remote copy per (document, route, provider).

Sizes: CI runs SOAK_RUNS=60 with SOAK_KILLS=1; `make soak` runs 300 runs and 3 kills. Other knobs:
SOAK_WORKERS (2), SOAK_CHAOS_RATE (0.2), SOAK_SEED (7), SOAK_TIMEOUT (seconds; 240 per 60 runs).

"Exactly one terminal write" is proven by the database itself: a PostgreSQL trigger records
every INSERT/UPDATE of a run row that leaves it terminal; each run must have exactly one.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from extraction.models import ExtractionAttempt, ExtractionRun, UploadedFile
from extraction.services.sweeper import extraction_runs_sweep
from tests import pdfgen
from tests.extraction.pipeline import seeded_profile
from tests.extraction.qcluster import (
    QCluster,
    create_cache_table,
    direct_environment,
    require_postgresql,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.chaos,
    pytest.mark.qcluster,
    pytest.mark.django_db(transaction=True),
]

RUNS = int(os.environ.get("SOAK_RUNS", "60"))
KILLS = int(os.environ.get("SOAK_KILLS", "1"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "2"))
CHAOS_RATE = float(os.environ.get("SOAK_CHAOS_RATE", "0.2"))
SEED = int(os.environ.get("SOAK_SEED", "7"))
TIMEOUT = float(os.environ.get("SOAK_TIMEOUT", str(max(240, 4 * RUNS))))
PROFILES = ("invoice", "summary")
TERMINAL = [str(s) for s in ExtractionRun.TERMINAL_STATUSES]

# Timeouts and waits short enough for CI; faults are the list.
CLUSTER_ENV = {
    "Q_WORKERS": str(WORKERS),
    "Q_TIMEOUT": "60",
    "LLM_TIMEOUT_SECONDS": "2",
    "LLM_CONNECT_TIMEOUT_SECONDS": "2",
    "LLM_RETRY_BASE_SECONDS": "0.05",
    "LLM_MAX_RETRY_WAIT_SECONDS": "5",
    "LLM_BREAKER_COOLOFF_SECONDS": "2",
    "EXTRACTION_STALE_QUEUED_SECONDS": "5",
    "EXTRACTION_UPLOAD_POLL_SECONDS": "0.1",
    "LOG_LEVEL": "INFO",
}
CHAOS_KINDS = [
    {"kind": "error", "status": 429, "retry_after": 1},
    "error:500",
    "error:503",
    "error:529",  # Anthropic's overloaded; the simulator answers 503 for the others
    {"kind": "delay", "delay": 3},  # past LLM_TIMEOUT_SECONDS: a read timeout
    {"kind": "stall", "stall": 3},  # half an answer, then silence
    "drop",
    "malformed_json",
]

AUDIT_SQL = """
CREATE TABLE reliability_terminal_write (
    id bigserial PRIMARY KEY, run_id uuid NOT NULL, status text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION reliability_terminal_write_record() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN ('succeeded', 'failed', 'cancelled') THEN
        INSERT INTO reliability_terminal_write (run_id, status) VALUES (NEW.id, NEW.status);
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER reliability_terminal_write_trigger
    AFTER INSERT OR UPDATE ON extraction_extractionrun
    FOR EACH ROW EXECUTE FUNCTION reliability_terminal_write_record();
"""
AUDIT_DROP_SQL = """
DROP TRIGGER IF EXISTS reliability_terminal_write_trigger ON extraction_extractionrun;
DROP FUNCTION IF EXISTS reliability_terminal_write_record();
DROP TABLE IF EXISTS reliability_terminal_write;
"""
CLAIM = re.compile(r"run (\S+) claimed \(attempt (\d+), pid (\d+)\)")


@pytest.fixture
def terminal_write_audit():
    require_postgresql()  # skips locally on SQLite (fails under CI=true)
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_DROP_SQL)
        cursor.execute(AUDIT_SQL)
    yield
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_DROP_SQL)


def terminal_writes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT run_id, status FROM reliability_terminal_write ORDER BY id")
        writes = collections.defaultdict(list)
        for run_id, status in cursor.fetchall():
            writes[str(run_id)].append(status)
    return writes


def upload_documents(api, count: int) -> list[str]:
    ids = []
    for i in range(count):
        data = pdfgen.blank_pdf(pages=1 + i % 3, marker=f"soak-{SEED}-{i}")
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(f"soak-{i:04d}.pdf", data, content_type="application/pdf")
        response = api.post("/api/documents/", {"file": upload}, format="multipart")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def kill_a_running_worker(qc: QCluster) -> tuple[str, int] | None:
    """SIGKILL the worker of a run that is running right now; (run id, pid), or None when no
    kill landed mid-run (nothing running, or the run ended just before the signal)."""
    claims = {}
    for match in CLAIM.finditer(qc.log()):
        claims[match.group(1)] = int(match.group(3))
    running = ExtractionRun.objects.filter(status="running", pk__in=list(claims))
    for run_id, lease in running.values_list("pk", "lease_token"):
        pid = claims[str(run_id)]
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        time.sleep(0.3)
        still = ExtractionRun.objects.filter(pk=run_id, status="running", lease_token=lease)
        return (str(run_id), pid) if still.exists() else None
    return None


def test_chaos_soak(api, simulator, tmp_path, monkeypatch, settings, terminal_write_audit):
    require_postgresql()
    create_cache_table()
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue into the ORM broker, not in-process
    # The sweeper as the cluster runs it (its schedule) and, for CI speed, also from here
    # every 2 s with the cluster's thresholds (concurrent sweeps are part of the test).
    settings.EXTRACTION_STALE_HEARTBEAT_SECONDS = 3
    settings.EXTRACTION_STALE_QUEUED_SECONDS = 5
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
    for slug in PROFILES:
        seeded_profile(slug)
    simulator.latency(0.3, operation="generate")  # a kill lands mid-call
    simulator.chaos(
        seed=SEED,
        rate=CHAOS_RATE,
        kinds=CHAOS_KINDS,
        operations=["upload", "generate"],
    )
    qc = QCluster(tmp_path / "qcluster.log", {**direct_environment(simulator), **CLUSTER_ENV})
    try:
        documents = upload_documents(api, (RUNS + len(PROFILES) - 1) // len(PROFILES))
        started = time.monotonic()
        run_ids = []
        for i in range(RUNS):
            document = documents[i // len(PROFILES)]
            response = api.post(
                f"/api/documents/{document}/extractions/",
                {"profile": PROFILES[i % len(PROFILES)]},
                format="json",
            )
            assert response.status_code == 202, response.content
            run_ids.append(response.json()["id"])

        kills, requeued, next_sweep = [], 0, 0.0
        thresholds = [RUNS * (k + 1) // (KILLS + 1) for k in range(KILLS)]
        deadline = started + TIMEOUT
        while True:
            done = ExtractionRun.objects.filter(pk__in=run_ids, status__in=TERMINAL).count()
            if done == RUNS:
                break
            if time.monotonic() > deadline:
                left = ExtractionRun.objects.exclude(status__in=TERMINAL)
                left = list(left.values_list("id", "status", "attempt_count"))
                raise AssertionError(f"not terminal after {TIMEOUT}s: {left}\n{qc.log()[-3000:]}")
            if len(kills) < KILLS and done >= thresholds[len(kills)]:
                killed = kill_a_running_worker(qc)
                if killed:
                    kills.append(killed)
            if time.monotonic() >= next_sweep:
                requeued += extraction_runs_sweep()["requeued"]
                next_sweep = time.monotonic() + 2
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        time.sleep(2)  # a late (duplicate) delivery would write now
        simulator.chaos(seed=SEED, rate=0)
        log = qc.log()
    finally:
        qc.stop()

    runs = {str(r.pk): r for r in ExtractionRun.objects.filter(pk__in=run_ids)}
    # None lost, none extra.
    assert len(runs) == RUNS and ExtractionRun.objects.count() == RUNS
    assert all(r.status in TERMINAL for r in runs.values())
    # Exactly one terminal write per run (the database trigger's record).
    writes = terminal_writes()
    written_twice = {run_id: w for run_id, w in writes.items() if len(w) != 1}
    assert not written_twice, written_twice
    assert set(writes) == set(runs)
    # Attempts recorded: every run has its calls; a success has its successful generation.
    attempts = collections.Counter(
        ExtractionAttempt.objects.filter(run_id__in=run_ids).values_list("run_id", flat=True)
    )
    for run_id, run in runs.items():
        if run.error_code == "too_many_attempts":
            continue
        assert attempts[run.pk] >= 1, (run_id, run.status, run.error_code)
        if run.status == "succeeded":
            assert run.result is not None and run.finished_at
            answered = ExtractionAttempt.objects.filter(
                run=run, operation__in=["generate", "repair"], outcome="ok"
            )
            assert answered.exists(), (
                run_id,
                list(run.attempts.values_list("operation", "outcome")),
            )
        assert run.attempt_count >= 1
    # The kills hit running runs, and those were taken back.
    assert len(kills) == KILLS, kills
    requeued += log.count("heartbeat stopped; re-queued")
    assert requeued >= 1, "no killed run was re-queued by the sweeper"
    taken_back = sum(1 for r in runs.values() if r.attempt_count > 1)
    assert taken_back >= 1, "no run was claimed again after a kill"
    # At most one live remote copy per (document, route, provider), and it exists remotely.
    live = UploadedFile.objects.filter(state__in=["uploading", "active"])
    per_key = collections.Counter(live.values_list("document_id", "route", "provider"))
    assert max(per_key.values(), default=0) <= 1, per_key.most_common(3)
    remote = {f["id"].split("/")[-1]: f for f in simulator.files()}  # Gemini ids: files/<id>
    active_ids = [
        r.split("/")[-1] for r in live.filter(state="active").values_list("remote_id", flat=True)
    ]
    missing = [rid for rid in active_ids if rid not in remote or remote[rid]["gone"]]
    assert not missing, (missing, list(remote)[:5])
    known = {r.split("/")[-1] for r in UploadedFile.objects.values_list("remote_id", flat=True)}
    orphans = [f for f in remote.values() if f["id"] not in known and not f["gone"]]

    statuses = collections.Counter(r.status for r in runs.values())
    errors = collections.Counter(r.error_code for r in runs.values() if r.error_code)
    faults = collections.Counter(
        e["fault"] for e in simulator.requests() if e.get("fault") is not None
    )
    summary = {
        "runs": RUNS,
        "kills": len(kills),
        "workers": WORKERS,
        "chaos_rate": CHAOS_RATE,
        "seed": SEED,
        "seconds": round(elapsed, 1),
        "statuses": dict(statuses),
        "error_codes": dict(errors),
        "attempt_rows": sum(attempts.values()),
        "claims_over_one": taken_back,
        "requeued_by_sweeper": requeued,
        "faults_injected": dict(faults),
        "provider_calls": len(simulator.requests()),
        "live_copies": sum(per_key.values()),
        "uploading_left": live.filter(state="uploading").count(),
        "remote_orphans": len(orphans),
    }
    print("\nCHAOS SOAK " + json.dumps(summary, sort_keys=True))
    if os.environ.get("SOAK_REPORT"):
        with open(os.environ["SOAK_REPORT"], "w") as fh:
            json.dump(summary, fh, indent=2, sort_keys=True)
    assert sum(faults.values()) > 0, "the simulator injected no fault"
