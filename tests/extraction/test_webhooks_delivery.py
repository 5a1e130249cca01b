"""Delivery against a real receiver process on loopback: signatures verified with the
standardwebhooks library, retries with one webhook-id, disabling, rotation overlap."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from extraction.models import ExtractionRun
from extraction.webhooks import conf, dispatch
from extraction.webhooks.models import WebhookDelivery, WebhookEndpoint
from extraction.webhooks.outbox import webhook_deliveries_sweep, webhook_run_events_record
from extraction.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
)
from tests.extraction.pipeline import make_document, seeded_profile
from tests.extraction.webhooks_support import free_port

pytestmark = pytest.mark.django_db


def endpoint_for(user, url, **kw):
    return webhook_endpoint_create(owner=user, url=url, **kw)


def make_due(delivery_id):
    WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())


def terminal_run(user, status="succeeded"):
    run = ExtractionRun.objects.create(
        document=make_document(user),
        profile=(profile := seeded_profile()),
        profile_version=profile.version,
        instructions=profile.instructions,
        schema=profile.schema,
        requested_model=profile.default_model,
        status=status,
        result={"invoice_number": "INV-1"} if status == "succeeded" else None,
    )
    return run


def test_run_event_is_written_with_the_terminal_write_and_sent_after_commit(
    user, other_user, webhook_settings, receivers, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    receiver = receivers([secret])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    endpoint_for(user, receiver.url, events=["extraction.failed"])  # not subscribed
    endpoint_for(other_user, receiver.url)  # not the owner
    run = terminal_run(user)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert webhook_run_events_record(run_id=run.pk, status="succeeded") == 1
        assert receiver.records() == []  # nothing leaves before the commit
    [record] = receiver.records()
    assert record["verified"] and record["type"] == "extraction.succeeded"
    assert record["run_id"] == str(run.pk) and record["run_status"] == "succeeded"
    delivery = WebhookDelivery.objects.get()
    assert record["webhook_id"] == delivery.webhook_id and delivery.status == "delivered"


def test_rolled_back_terminal_write_sends_nothing(user, webhook_settings, receivers):
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    run = terminal_run(user)
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_run_events_record(run_id=run.pk, status="failed")
        raise RuntimeError("the terminal write failed")
    assert not WebhookDelivery.objects.exists()


def test_receiver_down_at_first_then_delivered_later_with_one_webhook_id(
    user, webhook_settings, tmp_path, receivers, django_capture_on_commit_callbacks
):
    port = free_port()
    endpoint, secret = endpoint_for(user, f"http://127.0.0.1:{port}/hooks")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_endpoint_ping(endpoint=endpoint)  # nobody listens yet
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempt_count == 1
    assert delivery.last_error.startswith("connection error")
    first_retry = delivery.next_attempt_at
    assert first_retry > timezone.now() - timedelta(seconds=1)
    assert webhook_deliveries_sweep() == {"webhooks_enqueued": 0}  # not due yet

    receiver = receivers([secret], port=port, fail_first=1)  # up, but answers 500 once
    make_due(delivery.pk)
    assert webhook_deliveries_sweep() == {"webhooks_enqueued": 1}  # sync queue: sent now
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_status_code == 500
    make_due(delivery.pk)
    webhook_deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempt_count == 3
    records = receiver.records()
    assert [r["answered"] for r in records] == [500, 200]
    assert {r["webhook_id"] for r in records} == {delivery.webhook_id}
    assert all(r["verified"] for r in records)
    attempts = list(delivery.attempts.values_list("status_code", "next_retry_at"))
    assert [a[0] for a in attempts] == [None, 500, 200]
    assert attempts[0][1] is not None and attempts[2][1] is None
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_410_disables_the_endpoint(user, webhook_settings, receivers):
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    receiver = receivers([secret], status=410)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    delivery = webhook_endpoint_ping(endpoint=endpoint)
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert webhook_run_events_record(run_id=terminal_run(user).pk, status="succeeded") == 0


def test_consecutive_failed_deliveries_disable_the_endpoint_with_a_reason(
    user, webhook_settings, receivers
):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE = [0]  # two tries per delivery
    webhook_settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    receiver = receivers([secret], status=503)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    for _ in range(2):
        delivery = webhook_endpoint_ping(endpoint=endpoint)
        assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
        assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "2 consecutive deliveries failed (last: HTTP 503)"
    assert len(receiver.records()) == 4


def test_redirects_are_not_followed(user, webhook_settings, receivers):
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    receiver = receivers([secret], status=302)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    delivery = webhook_endpoint_ping(endpoint=endpoint)
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    assert len(receiver.records()) == 1
    assert WebhookDelivery.objects.get().last_error == "HTTP 302"


def test_total_time_budget_and_bounded_body(user, webhook_settings, receivers, monkeypatch):
    monkeypatch.setattr(conf, "TOTAL_TIMEOUT_SECONDS", 1.0)
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    slow = receivers([secret], hang_first=1, hang_seconds=4)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=slow.url)
    delivery = webhook_endpoint_ping(endpoint=endpoint)
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    attempt = delivery.attempts.get()
    assert attempt.error.startswith("timeout") and attempt.latency_ms < 2500
    big = receivers([secret], body_bytes=8 * 1024 * 1024)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=big.url)
    make_due(delivery.pk)
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"


def test_rotation_overlap_both_secrets_sign_then_only_the_new(user, webhook_settings, receivers):
    endpoint, old = endpoint_for(user, "http://127.0.0.1:1/x")
    old_only = receivers([old])
    endpoint, new = webhook_endpoint_rotate_secret(endpoint=endpoint, overlap_seconds=3600)
    new_only = receivers([new])
    for receiver in (old_only, new_only):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
        delivery = webhook_endpoint_ping(endpoint=endpoint)
        assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
        [record] = receiver.records()
        assert record["verified"] and record["signatures"] == 2
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1), url=old_only.url
    )
    delivery = webhook_endpoint_ping(endpoint=endpoint)
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "retry"
    assert old_only.records()[-1] == {**old_only.records()[-1], "verified": False, "signatures": 1}


def test_a_send_claims_once(user, webhook_settings, receivers):
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    receiver = receivers([secret])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    delivery = webhook_endpoint_ping(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=30)
    )
    assert dispatch.webhook_delivery_send(delivery_id=delivery.pk) == "not_claimed"
    # The claim of a dead worker expires: the sweeper sends it again.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), attempt_count=1
    )
    assert webhook_deliveries_sweep() == {"webhooks_enqueued": 1}
    assert WebhookDelivery.objects.get().status == "delivered"
    assert len(receiver.records()) == 1


def test_the_send_task_carries_the_delivery_id_only(
    user, webhook_settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    monkeypatch.setattr(Conf, "SYNC", False)
    endpoint, secret = endpoint_for(user, "http://127.0.0.1:1/x")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_endpoint_ping(endpoint=endpoint)
    [queued] = OrmQ.objects.all()
    task = SignedPackage.loads(queued.payload)
    assert task["args"] == (str(delivery.pk),) and task["kwargs"] == {}
    assert secret not in repr(task) and secret[6:20] not in queued.payload
