"""The documents REST API: upload, list, detail, file, delete; auth, isolation, limits, schema."""

import json
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import ClientHandler
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from extraction.models import Document
from tests import pdfgen
from tests.factories import DocumentFactory, UserFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "original_name",
    "sha256",
    "size_bytes",
    "page_count",
    "is_encrypted",
    "embedded_invoice",
    "created_at",
    "url",
}
LIST_URL = "/api/documents/"


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def post_pdf(client, data: bytes, name: str = "report.pdf"):
    return client.post(LIST_URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")


def detail_url(document_id) -> str:
    return f"/api/documents/{document_id}/"


# --- upload ---------------------------------------------------------------------------------


def test_upload_returns_201_with_exactly_the_documented_fields(api, user, storage_dir):
    path = pdfgen.PDFS / "good" / "2023-06-20-PV.pdf"
    response = post_pdf(api, path.read_bytes(), "minutes.pdf")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["original_name"] == "minutes.pdf"
    assert body["page_count"] == 2
    assert body["size_bytes"] == path.stat().st_size
    assert body["is_encrypted"] is False
    assert body["url"] == f"http://testserver/api/documents/{body['id']}/"
    assert response["Location"] == body["url"]
    assert Document.objects.get(id=body["id"]).owner == user


def test_same_bytes_again_is_200_with_the_same_id(api, storage_dir):
    data = pdfgen.blank_pdf(marker="again")
    first = post_pdf(api, data, "one.pdf")
    second = post_pdf(api, data, "two.pdf")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert Document.objects.count() == 1
    assert len(files_under(storage_dir)) == 1


@pytest.mark.parametrize(
    ("relative", "status", "code"),
    [
        ("bad/empty.pdf", 400, "empty_file"),
        ("bad/bad1.pdf", 415, "not_pdf"),
        ("bad/AmazonWebServices-truncated-60pct.pdf", 422, "pdf_unreadable"),
        ("bad/password-example.pdf", 422, "pdf_encrypted"),
    ],
)
def test_rejected_upload_is_json_code_and_leaves_nothing(
    api, relative, status, code, storage_dir, temp_dir
):
    response = post_pdf(api, (pdfgen.PDFS / relative).read_bytes())
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["detail"]
    assert Document.objects.count() == 0
    assert files_under(storage_dir) == [] and files_under(temp_dir) == []


def test_encrypted_with_empty_password_is_201_and_flagged(api, storage_dir):
    response = post_pdf(api, (pdfgen.PDFS / "bad" / "dmca.pdf").read_bytes())
    assert response.status_code == 201
    assert response.json()["is_encrypted"] is True
    assert response.json()["page_count"] == 18


def test_no_file_is_400_file_required(api):
    response = api.post(LIST_URL, {"note": "no file"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "file_required"


def test_file_under_another_field_name_is_400_file_required(api):
    response = api.post(
        LIST_URL, {"document": SimpleUploadedFile("a.pdf", pdfgen.blank_pdf())}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "file_required"


def test_two_files_is_400_too_many_files(api, storage_dir):
    files = [
        SimpleUploadedFile("a.pdf", pdfgen.blank_pdf(marker="a")),
        SimpleUploadedFile("b.pdf", pdfgen.blank_pdf(marker="b")),
    ]
    response = api.post(LIST_URL, {"file": files}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_files"
    assert Document.objects.count() == 0


def test_more_files_than_django_parses_is_400_too_many_files(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.7\n") for i in range(5)]
    response = api.post(LIST_URL, {"file": files}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_files"


def test_oversized_form_fields_are_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(
        LIST_URL,
        {"note": "x" * 5000, "file": SimpleUploadedFile("a.pdf", pdfgen.blank_pdf())},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_json_body_is_415(api):
    response = api.post(LIST_URL, {"file": "not a file"}, format="json")
    assert response.status_code == 415


def test_hostile_file_names_are_sanitised(api, storage_dir):
    cases = {
        "../../etc/passwd.pdf": "passwd.pdf",
        "a" * 300 + ".pdf": "a" * 251 + ".pdf",
    }
    for index, (given, kept) in enumerate(cases.items()):
        response = post_pdf(api, pdfgen.blank_pdf(marker=str(index)), given)
        assert response.status_code == 201
        assert response.json()["original_name"] == kept
        stored = Document.objects.get(id=response.json()["id"]).file.name
        assert stored.startswith("documents/") and ".." not in stored


def test_junk_before_signature_is_accepted(api, storage_dir):
    data = b"From: scanner@example.com\r\n\r\n" + pdfgen.blank_pdf(pages=2)
    response = post_pdf(api, data)
    assert response.status_code == 201 and response.json()["page_count"] == 2


# --- streamed uploads through the whole WSGI stack --------------------------------------------


def multipart_body(path: Path, pdf: Path | None, *, boundary: str, size: int = 0) -> int:
    """Write a multipart body with one `file` part to `path`, streaming; returns its length."""
    with open(path, "wb") as out:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        if pdf is not None:
            with open(pdf, "rb") as source:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
        else:
            out.write(b"%PDF-1.7\n")
            block = b"\0" * (1 << 20)
            remaining = size
            while remaining > 0:
                out.write(block[:remaining])
                remaining -= len(block)
        out.write(f"\r\n--{boundary}--\r\n".encode())
    return path.stat().st_size


def wsgi_post(body: Path, *, boundary: str, token: str):
    """POST a body file through Django's handler exactly as a WSGI server would stream it."""
    with open(body, "rb") as stream:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": LIST_URL,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": stream,
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(body.stat().st_size),
            "HTTP_AUTHORIZATION": f"Token {token}",
        }
        response = ClientHandler(enforce_csrf_checks=False)(environ)
        return response, stream.tell()


@pytest.fixture
def token(user):
    return Token.objects.create(user=user).key


def test_fifty_mib_streamed_upload_is_never_held_whole_in_memory(
    tmp_path, token, storage_dir, temp_dir
):
    pdf = pdfgen.write_large_pdf(tmp_path / "big.pdf", 50 * 1024 * 1024)
    body = tmp_path / "body"
    multipart_body(body, pdf, boundary="remorai-boundary")

    tracemalloc.start()
    try:
        response, _ = wsgi_post(body, boundary="remorai-boundary", token=token)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 201, response.content[:300]
    assert Document.objects.get().size_bytes == pdf.stat().st_size
    assert peak < 10 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert files_under(temp_dir) == []


def test_declared_over_limit_body_is_refused_without_reading_it(
    tmp_path, token, settings, storage_dir, temp_dir
):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    body = tmp_path / "body"
    length = multipart_body(body, None, boundary="b0undary", size=30 * 1024 * 1024)

    response, consumed = wsgi_post(body, boundary="b0undary", token=token)

    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "too_large"
    assert consumed < 1024 * 1024 < length
    assert Document.objects.count() == 0
    assert files_under(storage_dir) == [] and files_under(temp_dir) == []


def test_body_crossing_the_limit_while_read_is_stopped(
    tmp_path, token, settings, storage_dir, temp_dir, monkeypatch
):
    """Content-Length within limit + multipart overhead, but the file itself is over the limit."""
    settings.MAX_UPLOAD_BYTES = 1024 * 1024

    def never_reached(**kwargs):
        raise AssertionError("the upload handler should have stopped this body")

    monkeypatch.setattr("extraction.api.views.document_ingest", never_reached)
    body = tmp_path / "body"
    multipart_body(body, None, boundary="b0undary", size=1024 * 1024 + 20_000)

    response, _ = wsgi_post(body, boundary="b0undary", token=token)

    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "too_large"
    assert Document.objects.count() == 0
    assert files_under(storage_dir) == [] and files_under(temp_dir) == []


# --- list --------------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginated_with_page_size(api, user):
    now = timezone.now()
    documents = [DocumentFactory(owner=user) for _ in range(3)]
    for age, document in enumerate(documents):
        Document.objects.filter(id=document.id).update(created_at=now - timedelta(hours=age))
    DocumentFactory()  # someone else's

    response = api.get(LIST_URL, {"page_size": 2})
    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [str(d.id) for d in documents[:2]]
    assert set(body["results"][0]) == FIELDS
    second = api.get(body["next"]).json()
    assert [item["id"] for item in second["results"]] == [str(documents[2].id)]
    assert len(api.get(LIST_URL, {"page_size": 999}).json()["results"]) == 3  # capped at 200
    for wrong in ("abc", "2.5"):  # not silently the default page size
        refused = api.get(LIST_URL, {"page_size": wrong})
        assert refused.status_code == 400
        assert refused.json()["errors"] == {"page_size": ["Enter a whole number."]}
    refused = api.get("/api/extractions/", {"page_size": "ten"})  # the capped-count pages too
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"


def test_list_filters_by_name_and_created_range(api, user):
    now = timezone.now()
    old = DocumentFactory(owner=user, original_name="Invoice-2019.pdf")
    new = DocumentFactory(owner=user, original_name="invoice-2026.pdf")
    DocumentFactory(owner=user, original_name="minutes.pdf")
    Document.objects.filter(id=old.id).update(created_at=now - timedelta(days=30))

    by_name = api.get(LIST_URL, {"name": "INVOICE"}).json()
    assert {item["id"] for item in by_name["results"]} == {str(old.id), str(new.id)}
    since = (now - timedelta(days=1)).isoformat()
    recent = api.get(LIST_URL, {"name": "invoice", "created_after": since}).json()
    assert [item["id"] for item in recent["results"]] == [str(new.id)]
    before = api.get(LIST_URL, {"created_before": since}).json()
    assert [item["id"] for item in before["results"]] == [str(old.id)]


def test_list_query_count_does_not_grow_with_documents(api, user, django_assert_num_queries):
    DocumentFactory(owner=user)
    with django_assert_num_queries(2) as one:  # count + page
        assert api.get(LIST_URL).json()["count"] == 1
    DocumentFactory.create_batch(19, owner=user)
    with django_assert_num_queries(len(one.captured_queries)):
        assert api.get(LIST_URL).json()["count"] == 20


# --- detail, file, delete ---------------------------------------------------------------------


def test_detail_returns_the_document(api, user):
    document = DocumentFactory(owner=user)
    response = api.get(detail_url(document.id))
    assert response.status_code == 200
    assert response.json()["sha256"] == document.sha256
    assert set(response.json()) == FIELDS


def test_file_is_the_pdf_as_an_attachment(api, user, storage_dir):
    data = pdfgen.blank_pdf(marker="download")
    created = post_pdf(api, data, 'my "report".pdf').json()
    response = api.get(f"{detail_url(created['id'])}file", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == data


def test_delete_is_204_and_removes_the_file_after_commit(
    api, user, storage_dir, django_capture_on_commit_callbacks
):
    created = post_pdf(api, pdfgen.blank_pdf(marker="delete")).json()
    stored = files_under(storage_dir)
    assert len(stored) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.delete(detail_url(created["id"]))
    assert response.status_code == 204
    assert not Document.objects.filter(id=created["id"]).exists()
    assert stored[0].exists(), "the file must outlive the transaction"
    for callback in callbacks:
        callback()
    assert files_under(storage_dir) == []


# --- who may see what -------------------------------------------------------------------------


def endpoints(document_id):
    url = detail_url(document_id)
    return [("get", url), ("delete", url), ("get", f"{url}file")]


def test_another_users_document_is_404_on_every_endpoint(api, other_user):
    theirs = DocumentFactory(owner=other_user)
    for method, url in endpoints(theirs.id):
        response = getattr(api, method)(url)
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
    assert api.get(LIST_URL).json()["count"] == 0
    assert Document.objects.filter(id=theirs.id).exists()


def test_unknown_document_is_404(api):
    assert api.get(detail_url(uuid.uuid4())).status_code == 404


def test_anonymous_is_401_everywhere_with_www_authenticate(anon_api, user):
    document = DocumentFactory(owner=user)
    requests = [("get", LIST_URL), ("post", LIST_URL), *endpoints(document.id)]
    for method, url in requests:
        response = getattr(anon_api, method)(url)
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"
        assert "'Authorization: Token <key>'" in response.json()["detail"]
    assert Document.objects.filter(id=document.id).exists()


def test_a_bearer_header_is_told_the_scheme_expected(anon_api, user):
    """`Authorization: Bearer <key>` (or the bare key) is ignored by token auth: the 401 used to
    say only 'credentials were not provided'."""
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=user).key
    for header in (f"Bearer {key}", key):
        anon_api.credentials(HTTP_AUTHORIZATION=header)
        response = anon_api.get(LIST_URL)
        assert response.status_code == 401
        detail = response.json()["detail"]
        assert "uses another scheme" in detail and "'Authorization: Token <key>'" in detail
        assert key not in detail  # never echoed
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_api.get(LIST_URL).status_code == 200


def test_token_authentication(user):
    DocumentFactory(owner=user)
    key = Token.objects.create(user=user).key
    client = APIClient()
    assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Token {key}").json()["count"] == 1
    bad = client.get(LIST_URL, HTTP_AUTHORIZATION="Token not-a-real-token")
    assert bad.status_code == 401 and bad.json()["code"] == "authentication_failed"


def test_session_authentication(client, user):
    DocumentFactory(owner=user)
    client.force_login(user)
    assert client.get(LIST_URL).json()["count"] == 1


def test_throttling_is_on(monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    # The rates are read once, at import; patch them where the throttles look (undone after).
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    cache.clear()
    client = APIClient()
    client.force_authenticate(UserFactory())
    try:
        statuses = [client.get(LIST_URL).status_code for _ in range(3)]
        # Anonymous requests to the API are refused (401) before throttling; the schema is open.
        anonymous = [APIClient().get("/api/schema/").status_code for _ in range(3)]
    finally:
        cache.clear()
    assert statuses == [200, 200, 429]
    assert anonymous == [200, 200, 429]


# --- schema -----------------------------------------------------------------------------------


def test_openapi_schema_is_valid_and_documents_the_api():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    upload = paths["/api/documents/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"200", "201", "400", "401", "413", "415", "422"} <= set(upload["responses"])
    assert (
        "application/pdf"
        in paths["/api/documents/{document_id}/file"]["get"]["responses"]["200"]["content"]
    )
    assert set(schema["components"]["schemas"]["Document"]["properties"]) == FIELDS


def test_schema_and_swagger_ui_are_served_without_a_cdn(client):
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
