"""Batch re-extraction through a REAL qcluster on PostgreSQL: `reextract --batch` sends the job,
the cluster's scheduler runs the poll-provider-batches schedule, and the worker writes every
run's answer (no run executed by the normal queue)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from extraction.models import ExtractionAttempt, ExtractionBatch
from extraction.textpdf import write_text_pdf
from llm.gateways import reset_gateways
from tests.extraction.pipeline import make_document
from tests.extraction.qcluster import (
    QCluster,
    create_cache_table,
    direct_environment,
    require_postgresql,
    wait_for,
)
from tests.factories import SIMPLE_SCHEMA, RunFactory

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]
MODEL = "openai/gpt-4o-mini"


def test_the_scheduled_poll_collects_a_batch_in_the_cluster(
    simulator, settings, user, tmp_path, monkeypatch
):
    require_postgresql()
    create_cache_table()
    monkeypatch.setattr(Conf, "SYNC", False)
    for name, value in direct_environment(simulator).items():
        setattr(settings, name, value)
    reset_gateways()
    from extraction.models import ExtractionProfile

    profile = ExtractionProfile.objects.create(
        slug="qc-batch",
        name="Cluster batch",
        instructions="Extract the invoice fields.",
        schema={**SIMPLE_SCHEMA, "required": list(SIMPLE_SCHEMA["properties"])}
        | {"additionalProperties": False},
        default_model=MODEL,
    )
    for n in range(3):
        path = tmp_path / f"invoice-{n}.pdf"
        write_text_pdf(path, [[f"Invoice number: INV-{n}"]])
        RunFactory(document=make_document(user, path), profile=profile, model=MODEL)
    call_command("reextract", "--profile", profile.slug, "--batch", stdout=io.StringIO())
    batch = ExtractionBatch.objects.get()
    ExtractionBatch.objects.update(next_poll_at=None)  # due at the schedule's first run
    Schedule.objects.update_or_create(  # the migration's row (flushed by transactional tests)
        name="poll-provider-batches",
        defaults={
            "func": "extraction.tasks.poll_batches",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    qc = QCluster(tmp_path / "qcluster.log", direct_environment(simulator))
    try:
        wait_for(
            lambda: ExtractionBatch.objects.filter(pk=batch.pk, status="done").exists(),
            timeout=90,
            what="the batch collected by the scheduled poll",
        )
    finally:
        qc.stop()
    runs = batch.runs.all()
    assert set(runs.values_list("status", "route")) == {("succeeded", "direct")}
    assert ExtractionAttempt.objects.filter(run__in=runs).count() == 3  # one each, batch-priced
    assert not simulator.requests(provider="openai", operation="generate")
    assert "poll_batches" in qc.log()
