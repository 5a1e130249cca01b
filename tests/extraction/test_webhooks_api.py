"""/api/webhooks/: registration, the secret shown once, owner isolation, rotation, ping, log."""

import logging

import pytest
from rest_framework.test import APIClient

from extraction.webhooks import ssrf
from extraction.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

PUBLIC = [(2, 1, 6, "", ("93.184.215.14", 443))]


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address (no real DNS, no traffic sent)."""
    monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: PUBLIC)


def create(api, url="https://hooks.example.com/in", **extra):
    return api.post("/api/webhooks/", {"url": url, **extra}, format="json")


def test_create_shows_the_secret_once_then_masked(api, public_dns, caplog):
    caplog.set_level(logging.DEBUG)
    response = create(api, description="billing")
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert body["events"] == [
        "extraction.succeeded",
        "extraction.failed",
        "extraction.cancelled",
        "extraction.needs_review",
    ]
    assert body["secret_masked"] == f"whsec_…{secret[-4:]}"
    again = api.get(f"/api/webhooks/{body['id']}/").json()
    listed = api.get("/api/webhooks/").json()["results"][0]
    for shown in (again, listed):
        assert "secret" not in shown and secret not in str(shown)
        assert shown["secret_masked"] == body["secret_masked"]
    assert secret not in caplog.text


def test_unknown_event_and_bad_url_are_4xx(api, public_dns):
    response = create(api, events=["extraction.exploded"])
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert create(api, url="not a url").status_code == 400
    assert WebhookEndpoint.objects.count() == 0


def test_https_only_unless_debug_or_allowed(api, public_dns, settings):
    settings.DEBUG = False
    settings.WEBHOOK_ALLOW_HTTP = False
    response = create(api, url="http://hooks.example.com/in")
    assert response.status_code == 422
    assert response.json()["reason"] == "insecure_scheme"
    settings.WEBHOOK_ALLOW_HTTP = True
    assert create(api, url="http://hooks.example.com/in").status_code == 201


def test_another_users_endpoint_is_a_404(api, other_user, public_dns):
    mine = create(api).json()["id"]
    theirs = APIClient()
    theirs.force_authenticate(other_user)
    assert theirs.get("/api/webhooks/").json()["results"] == []
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "rotate-secret/"),
        ("post", "test/"),
        ("get", "deliveries/"),
    ]:
        response = getattr(theirs, method)(f"/api/webhooks/{mine}/{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    assert WebhookEndpoint.objects.filter(pk=mine).exists()


def test_update_rechecks_the_url_and_enabling_clears_the_reason(api, public_dns):
    endpoint_id = create(api).json()["id"]
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        enabled=False, disabled_reason="5 consecutive deliveries failed", consecutive_failures=5
    )
    refused = api.patch(
        f"/api/webhooks/{endpoint_id}/", {"url": "https://10.0.0.1/x"}, format="json"
    )
    assert refused.status_code == 422 and refused.json()["reason"] == "forbidden_address"
    body = api.patch(
        f"/api/webhooks/{endpoint_id}/",
        {"enabled": True, "events": ["extraction.failed"]},
        format="json",
    ).json()
    assert body["enabled"] is True and body["disabled_reason"] == ""
    assert body["consecutive_failures"] == 0 and body["events"] == ["extraction.failed"]
    assert api.delete(f"/api/webhooks/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint_id).exists()


def test_rotate_secret_gives_the_new_one_once(api, public_dns):
    created = create(api).json()
    rotated = api.post(
        f"/api/webhooks/{created['id']}/rotate-secret/", {"overlap_seconds": 600}, format="json"
    ).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.previous_secret == created["secret"]
    assert endpoint.secret == rotated["secret"]


def test_ping_is_signed_delivered_and_logged(
    api,
    user,
    webhook_settings,
    receivers,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    created = create(api, url="http://127.0.0.1:1/placeholder").json()
    receiver = receivers([created["secret"]])
    api.patch(f"/api/webhooks/{created['id']}/", {"url": receiver.url}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/webhooks/{created['id']}/test/")
    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    [record] = receiver.records()
    assert record == {
        **record,
        "webhook_id": f"msg_{delivery.pk.hex}",
        "verified": True,
        "type": "ping",
        "answered": 200,
    }
    with django_assert_num_queries(4):  # session-less auth: endpoint, count, page, attempts
        log = api.get(f"/api/webhooks/{created['id']}/deliveries/").json()
    [row] = log["results"]
    assert row["webhook_id"] == record["webhook_id"] and row["status"] == "delivered"
    assert row["attempts"][0]["status_code"] == 200


def test_ping_to_a_disabled_endpoint_is_a_409(api, public_dns):
    endpoint_id = create(api, enabled=False).json()["id"]
    response = api.post(f"/api/webhooks/{endpoint_id}/test/")
    assert response.status_code == 409
    assert response.json()["code"] == "webhook_endpoint_disabled"


def test_webhook_secrets_are_masked_in_log_lines():
    from remorai.logging import redact

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert redact(f"signing with {secret} now") == "signing with [REDACTED] now"
