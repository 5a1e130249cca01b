"""API fuzzing: schemathesis generates requests from our own /api/schema/ and sends them through
the Django WSGI app (no network), authenticated with a token. Every response must not be a 5xx
and must conform to the schema (status code, content type, headers, body). Bounded:
FUZZ_MAX_EXAMPLES per operation (default 25) and no per-example deadline.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from remorai.wsgi import application
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = [pytest.mark.reliability]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Input-strictness heuristics, not conformance: a schema-valid upload of random bytes is not a
# PDF (415 by design), a random id is someone else's or nobody's (404), and a page_size over
# the maximum (or under 1) is capped to it or the default, not refused (lenient by design).
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def keep_connection():
    """Requests go straight to the WSGI app (not Django's test client), so its request
    signals would close the test's database connection (PostgreSQL) after each request: keep
    it open the way django.test.Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def no_webhook_traffic(monkeypatch):
    """Fuzzed webhook URLs are never resolved nor sent to: names do not resolve, and a ping to
    a registered address literal is answered here (tests send traffic to loopback only)."""
    from extraction.webhooks import delivery, ssrf

    def unresolvable(host, port):
        raise OSError("no DNS while fuzzing")

    monkeypatch.setattr(ssrf, "_getaddrinfo", unresolvable)
    monkeypatch.setattr(
        delivery, "post", lambda **kw: delivery.TryResult(None, "not sent (fuzzing)", 0)
    )


@pytest.fixture
def token(db, keep_connection, django_user_model, monkeypatch, no_webhook_traffic):
    # Throttling answers 429 by design; fuzzing sends far more than the rates allow.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    user = django_user_model.objects.create_user(username="fuzzer", password="pw-fuzz-123")
    seeded_profile("invoice")
    seeded_profile("summary")
    make_document(user)  # something real to list and page through
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=NOT_CHECKED)


def test_an_unmatched_api_url_is_a_json_404(api, client):
    response = api.get("/api/documents/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    assert "text/html" in client.get("/no-such-page/")["Content-Type"]


def test_the_schema_documents_the_common_errors():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    listing = paths["/api/extractions/"]["get"]["responses"]
    assert {"200", "400", "401", "404", "429"} <= set(listing)
    cancel = paths["/api/extractions/{run_id}/cancel/"]["post"]["responses"]
    assert {"200", "401", "404", "409", "429"} <= set(cancel)


@pytest.mark.parametrize(
    "value",
    [
        "3472-09-21T04:20:42-17:13",  # PostgreSQL refuses offsets beyond ±15:59 (was a 500)
        "9999-12-31T23:59:59-05:00",  # overflows when converted to UTC
        "0001-01-01T00:00:00+05:00",
    ],
)
@pytest.mark.parametrize("url", ["/api/documents/", "/api/extractions/"])
def test_extreme_datetime_filters_are_never_a_500(api, url, value):
    for name in ("created_after", "created_before"):
        response = api.get(url, {name: value})
        assert response.status_code in (200, 400), (name, value, response.content)
        if response.status_code == 400:
            assert response.json()["code"]


def test_datetime_filters_with_an_offset_still_filter(api, user):
    make_document(user)
    assert (
        api.get("/api/documents/", {"created_after": "2000-01-01T00:00:00-12:00"}).json()["count"]
        == 1
    )
    assert (
        api.get("/api/documents/", {"created_before": "2000-01-01T00:00:00+14:00"}).json()["count"]
        == 0
    )


@pytest.mark.parametrize("page", ["576198310109273381547295113216", str(2**31), "-1", "0", "x"])
def test_absurd_page_numbers_are_404_not_500(api, user, page):
    make_document(user)
    for url in ("/api/documents/", "/api/extractions/"):
        response = api.get(url, {"page": page})
        assert response.status_code == 404, (url, page, response.content)
        assert response.json()["code"] == "not_found"
