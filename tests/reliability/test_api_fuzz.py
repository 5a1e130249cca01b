"""API fuzzing: schemathesis generates requests from our own /api/schema/ and sends them through
the Django WSGI app (no network), authenticated with a token. Every response must not be a 5xx
and must conform to the schema (status code, content type, headers, body). Bounded:
FUZZ_MAX_EXAMPLES per operation (default 25) and no per-example deadline.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
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
# PDF (415 by design), a random id is someone else's or nobody's (404), and DRF's pagination
# falls back to the default page size for an unparseable page_size (lenient by design).
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def token(db, django_user_model, monkeypatch):
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
