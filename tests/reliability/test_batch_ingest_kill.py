"""A worker SIGKILLed while it writes a provider batch job's results (#16 §2): a real process
(`manage.py shell` on the test's PostgreSQL database) runs the batch poll and is killed inside
the third item — after that run's claim and its attempt row, before its terminal write. Then the
sweeper takes the stranded run back (normal queue) and the next poll resumes the ingestion:
every run ends succeeded, each written once, and the job ends done.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command

from extraction.models import ExtractionAttempt, ExtractionBatch
from extraction.services import batch_ingest
from extraction.services.sweeper import extraction_runs_sweep
from extraction.textpdf import write_text_pdf
from llm.gateways import reset_gateways
from tests.extraction.pipeline import make_document
from tests.extraction.qcluster import (
    REPO_ROOT,
    database_url_for_subprocess,
    direct_environment,
    require_postgresql,
)
from tests.factories import SIMPLE_SCHEMA, RunFactory

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]
MODEL = "openai/gpt-4o-mini"
DIES_IN_ITEM = 3
INGEST_AND_DIE = f"""
import os, signal
from extraction.services import batch_ingest, lease
real, calls = lease.Lease.finish, []
def finish(self, **fields):
    calls.append(self.run_id)
    if len(calls) == {DIES_IN_ITEM}:
        os.kill(os.getpid(), signal.SIGKILL)  # claimed, attempt recorded, nothing written
    return real(self, **fields)
lease.Lease.finish = finish
batch_ingest.extraction_batches_poll()
"""


@pytest.fixture
def batched(simulator, settings, user, tmp_path):
    require_postgresql()
    for name, value in direct_environment(simulator).items():
        setattr(settings, name, value)
    cache.clear()
    reset_gateways()
    from extraction.models import ExtractionProfile

    schema = {**SIMPLE_SCHEMA, "required": list(SIMPLE_SCHEMA["properties"])}
    profile = ExtractionProfile.objects.create(
        slug="kill-batch",
        name="Kill batch",
        instructions="Extract the invoice fields.",
        schema=schema | {"additionalProperties": False},
        default_model=MODEL,
    )
    for n in range(5):
        path = tmp_path / f"invoice-{n}.pdf"
        write_text_pdf(path, [[f"Invoice number: INV-{n}", "Amount: 10.50"]])
        RunFactory(document=make_document(user, path), profile=profile, model=MODEL)
    call_command("reextract", "--profile", profile.slug, "--batch", stdout=io.StringIO())
    yield simulator
    reset_gateways()


def ingest_in_a_process_that_dies(simulator) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "LLM_SECRETS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "remorai.settings",
            "DATABASE_URL": database_url_for_subprocess(),
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "REDIS_URL": "",
            **direct_environment(simulator),
        }
    )
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "shell", "-c", INGEST_AND_DIE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_worker_killed_while_ingesting_writes_nothing_twice(batched, settings):
    batch = ExtractionBatch.objects.get()
    runs = batch.runs.all()
    ExtractionBatch.objects.update(next_poll_at=None)  # due now

    died = ingest_in_a_process_that_dies(batched)
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    statuses = sorted(runs.values_list("status", flat=True))
    assert statuses == ["batched", "batched", "running", "succeeded", "succeeded"]
    stranded = runs.get(status="running")
    assert ExtractionAttempt.objects.filter(run=stranded).count() == 1  # recorded, not written
    batch.refresh_from_db()
    assert batch.status == "ingesting"

    settings.EXTRACTION_STALE_HEARTBEAT_SECONDS = 0  # its heartbeat is stale: taken back
    assert extraction_runs_sweep()["requeued"] == 1  # (sync test queue: re-done at once)
    ExtractionBatch.objects.update(next_poll_at=None)  # the ingestion's lease ran out
    batch_ingest.extraction_batches_poll()

    batch.refresh_from_db()
    assert (batch.status, batch.succeeded_count) == ("done", 4)
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    for run in runs.exclude(pk=stranded.pk):
        assert list(run.attempts.values_list("operation", "outcome")) == [("generate", "ok")]
    # the stranded run: its batch answer's attempt, then one normal re-extraction — one write
    stranded.refresh_from_db()
    operations = list(stranded.attempts.values_list("operation", flat=True))
    assert operations.count("generate") == 2 and stranded.attempt_count == 2
