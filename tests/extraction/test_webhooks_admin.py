"""Webhook admin: every endpoint with its secret masked, the delivery log, "redeliver"."""

import pytest

from extraction.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + "D" * 39 + "WxYz"


@pytest.fixture
def delivery(user):
    endpoint = WebhookEndpoint.objects.create(
        owner=user, url="https://hooks.example.com/in", secret=SECRET, events=["ping"]
    )
    d = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="ping",
        status="failed",
        attempt_count=2,
        payload='{"type":"ping","timestamp":"t","data":{}}',
        last_status_code=500,
    )
    WebhookAttempt.objects.create(delivery=d, started_at=d.created_at, status_code=500)
    return d


def test_changelists_and_change_pages_show_the_secret_masked(admin_client, delivery):
    pages = [
        "/admin/extraction/webhookendpoint/",
        f"/admin/extraction/webhookendpoint/{delivery.endpoint_id}/change/",
        "/admin/extraction/webhookdelivery/",
        f"/admin/extraction/webhookdelivery/{delivery.pk}/change/",
    ]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert SECRET not in html and "D" * 20 not in html, page
    endpoint_page = admin_client.get(pages[0]).content.decode()
    assert "whsec_…WxYz" in endpoint_page
    assert delivery.webhook_id in admin_client.get(pages[2]).content.decode()


def test_redeliver_action_queues_the_same_delivery_again(
    admin_client, delivery, monkeypatch, django_capture_on_commit_callbacks
):
    from extraction import queue

    sent = []
    monkeypatch.setattr(queue, "enqueue_webhook_send", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/extraction/webhookdelivery/",
            {"action": "redeliver_action", "_selected_action": [str(delivery.pk)]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("pending", 0)
    assert sent == [str(delivery.pk)]


def test_disabling_in_the_admin_goes_through_the_service(admin_client, delivery):
    endpoint = delivery.endpoint
    page = f"/admin/extraction/webhookendpoint/{endpoint.pk}/change/"
    response = admin_client.post(page, {"description": "paused", "enabled": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Disabled by hand."
    assert endpoint.secret == SECRET
