"""Under /api/ every error is {"code", "detail", …} JSON with its status: 5xx (database down,
storage failing, a bug), request parsing limits, errors raised outside a view, and all of it
with DJANGO_DEBUG on as well as off (#17 §2)."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from extraction import selectors
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def api(user):
    # Exceptions Django answers with its 500 page must come back as responses, not be re-raised.
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_a_database_outage_is_a_503_json_error_with_retry_after(api, monkeypatch, debug):
    def down(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    monkeypatch.setattr(selectors, "document_list", down)
    response = api.get("/api/documents/")
    assert_json_error(response, 503, "database_unavailable")
    assert int(response["Retry-After"]) > 0
    assert "5432" not in response.content.decode()  # the cause is logged, not shown


def test_a_storage_failure_is_a_503_json_error(api, user, debug):
    document = make_document(user)
    document.file.storage.delete(document.file.name)  # the file store lost it / is unreachable
    response = api.get(f"/api/documents/{document.pk}/file")
    assert_json_error(response, 503, "storage_unavailable")


def test_an_upload_whose_storage_write_fails_is_a_503_and_keeps_nothing(
    api, monkeypatch, debug, django_user_model
):
    from django.core.files.storage import FileSystemStorage

    from extraction.models import Document
    from tests.pdfgen import blank_pdf

    def disk_full(self, name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.pdf", blank_pdf(), content_type="application/pdf")
    response = api.post("/api/documents/", {"file": upload}, format="multipart")
    assert_json_error(response, 503, "storage_unavailable")
    assert not Document.objects.exists()


def test_an_unexpected_exception_is_a_500_json_error_and_logged(api, monkeypatch, caplog, debug):
    def bug(**kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(selectors, "profile_list", bug)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.get("/api/profiles/")
    assert_json_error(response, 500, "internal_error")
    assert "a bug" not in response.content.decode()
    # The traceback is logged (as text: remorai.logging's filter redacts it first).
    assert any("ZeroDivisionError: a bug" in (r.exc_text or "") for r in caplog.records)


def test_a_json_body_over_the_memory_limit_is_a_413(api, user, settings, debug):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    seeded_profile("invoice")
    document = make_document(user)
    response = api.post(
        f"/api/documents/{document.pk}/extractions/",
        {"profile": "invoice", "model": "x" * 2000},
        format="json",
    )
    body = assert_json_error(response, 413, "too_large")
    assert body["max_bytes"] == 1000


def test_too_many_query_parameters_is_a_400(api, settings, debug):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    query = "&".join(f"status=queued&x{i}=1" for i in range(30))
    response = api.get(f"/api/extractions/?{query}")
    assert_json_error(response, 400, "too_many_fields")


def test_a_bad_filter_is_a_400_with_errors_by_parameter(api, debug):
    response = api.get("/api/extractions/", {"status": "bogus"})
    body = assert_json_error(response, 400, "invalid")
    assert list(body["errors"]) == ["status"]


class _DatabaseDownMiddleware:
    """A middleware (not a view) meeting the database outage: Django answers it itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("server closed the connection unexpectedly")


class _BuggyMiddleware(_DatabaseDownMiddleware):
    def __call__(self, request):
        raise RuntimeError("a bug outside any view")


@pytest.mark.parametrize(
    ("middleware", "status", "code"),
    [
        (_DatabaseDownMiddleware, 503, "database_unavailable"),
        (_BuggyMiddleware, 500, "internal_error"),
    ],
)
def test_an_error_outside_the_views_is_json_under_api_only(
    api, client, settings, debug, middleware, status, code
):
    path = f"{__name__}.{middleware.__name__}"
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, path]):
        assert_json_error(api.get("/api/extractions/"), status, code)
        client.raise_request_exception = False
        page = client.get("/admin/login/")
    assert page.status_code == 500
    assert "json" not in page["Content-Type"]  # outside /api/, Django's own page


def test_the_schema_declares_the_error_bodies():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert "errors" in components["Error"]["properties"]
    paths = schema["paths"]

    def body(path, method, status):
        content = paths[path][method]["responses"][status]["content"]
        return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]

    create = "/api/documents/{document_id}/extractions/"
    assert body(create, "post", "409") == "ExtractionInProgressError"
    assert "active_run_id" in components["ExtractionInProgressError"]["properties"]
    assert body(create, "post", "422") == "ExtractionRequestError"
    assert {"profile", "model", "known"} <= set(components["ExtractionRequestError"]["properties"])
    assert body("/api/extractions/{run_id}/cancel/", "post", "409") == "ExtractionFinishedError"
    assert body("/api/extractions/{run_id}/retry/", "post", "409") == "ExtractionInProgressError"
    assert body("/api/extractions/", "get", "503") == "Error"
    assert list(paths[create]["post"]["requestBody"]["content"]) == ["application/json"]
    listing = components["PaginatedExtractionRunList"]
    assert "count_capped" in listing["properties"] and "count_capped" in listing["required"]
    route = components["ExtractionRun"]["properties"]["route"]
    route_enums = {ref["$ref"].rsplit("/", 1)[1] for ref in route["oneOf"]}
    assert route_enums == {"RunRouteEnum", "BlankEnum"}
