"""Webhooks through a REAL qcluster on PostgreSQL: the worker sending a run's terminal event is
SIGKILLed mid-send; the sweeper sends it again and a receiver that dedupes by webhook-id
processes it exactly once."""

from __future__ import annotations

import os
import signal

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from extraction.models import ExtractionRun
from extraction.services.runs import extraction_run_enqueue
from extraction.webhooks.models import WebhookDelivery, WebhookEndpoint
from extraction.webhooks.signing import new_secret
from tests.extraction.pipeline import make_document, seeded_profile
from tests.extraction.qcluster import (
    QCluster,
    create_cache_table,
    direct_environment,
    require_postgresql,
    wait_for,
)

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(simulator, tmp_path, monkeypatch):
    require_postgresql()
    create_cache_table()
    monkeypatch.setattr(Conf, "SYNC", False)
    started = []

    def start(**extra):
        qc = QCluster(
            tmp_path / f"qcluster-{len(started)}.log", {**direct_environment(simulator), **extra}
        )
        started.append(qc)
        return qc

    yield start
    for qc in started:
        qc.stop()


def test_worker_killed_mid_send_the_event_is_delivered_exactly_once(cluster, receivers, user):
    secret = new_secret()
    # The first request hangs (the worker is killed while waiting); later ones answer 200.
    receiver = receivers([secret], hang_first=1, hang_seconds=300)
    WebhookEndpoint.objects.create(
        owner=user,
        url=receiver.url,
        secret=secret,
        events=["extraction.succeeded", "extraction.failed", "extraction.cancelled"],
    )
    # The sweeper's schedule (the migration's row is flushed by transactional tests).
    Schedule.objects.update_or_create(
        name="sweep-webhook-deliveries",
        defaults={
            "func": "extraction.webhooks.tasks.sweep_webhook_deliveries",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    qc = cluster(
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_ALLOW_HTTP="true",
        WEBHOOK_CLAIM_SECONDS="3",
        WEBHOOK_RETRY_SCHEDULE="1,1,1",
    )
    profile = seeded_profile("invoice")
    run = extraction_run_enqueue(document=make_document(user), profile=profile, trigger="command")

    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(run=run).first(), timeout=60, what="the outbox row"
    )
    assert ExtractionRun.objects.get(pk=run.pk).status == "succeeded"
    match = qc.wait_for_log(
        rf"webhook {delivery.webhook_id} claimed \(try 1, pid (\d+)\)", timeout=30
    )
    wait_for(lambda: receiver.arrivals(), timeout=10, what="the first request to arrive")
    os.kill(int(match.group(1)), signal.SIGKILL)

    delivered = wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").first(),
        timeout=120,
        what="the delivery after the sweeper took it back",
    )
    records = receiver.records()
    assert [r["webhook_id"] for r in records] == [delivery.webhook_id]
    [record] = records
    assert record["verified"] and not record["duplicate"] and record["answered"] == 200
    assert record["type"] == "extraction.succeeded" and record["run_id"] == str(run.pk)
    assert delivered.attempt_count == 2
    assert WebhookDelivery.objects.count() == 1
