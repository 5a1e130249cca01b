"""Intake and the documents API on S3 (django-storages) against a local moto server."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import httpx
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from extraction.errors import PdfEncrypted
from extraction.services.intake import document_ingest
from tests import pdfgen
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "remorai-test-documents"
PLACEHOLDER_ENDPOINT = "http://moto.invalid:1"


@pytest.fixture(scope="module")
def settings_storage() -> dict:
    return storage_from_settings(PLACEHOLDER_ENDPOINT)


@pytest.fixture
def s3(monkeypatch, settings, settings_storage):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process, not per server: start from an empty account.
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    storage = json.loads(json.dumps(settings_storage))
    assert storage["OPTIONS"]["endpoint_url"] == PLACEHOLDER_ENDPOINT
    storage["OPTIONS"]["endpoint_url"] = endpoint
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    try:
        yield client
    finally:
        server.stop()


def storage_from_settings(endpoint: str) -> dict:
    """The default storage exactly as remorai/settings.py builds it from the environment."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "remorai.settings",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.STORAGES['default']))",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    return storage


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_settings_make_a_private_no_overwrite_bucket_storage(s3, settings):
    options = settings.STORAGES["default"]["OPTIONS"]
    assert options["default_acl"] == "private"
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True


def test_intake_stores_the_pdf_privately_under_a_generated_key(s3):
    path = pdfgen.PDFS / "good" / "federal-register-2020-17221.pdf"
    with open(path, "rb") as stream:
        document, created = document_ingest(
            owner=UserFactory(), upload=File(stream, name="../../fr.pdf")
        )

    assert created and document.page_count == 15
    key = f"documents/{document.file.name}"
    assert keys(s3) == [key]
    assert key == f"documents/documents/{document.id.hex[:2]}/{document.id.hex}.pdf"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == path.read_bytes()
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # owner only


def test_rejected_upload_leaves_no_object(s3):
    path = pdfgen.PDFS / "bad" / "libreoffice-writer-password.pdf"
    with pytest.raises(PdfEncrypted), open(path, "rb") as stream:
        document_ingest(owner=UserFactory(), upload=File(stream, name=path.name))
    assert keys(s3) == []


def test_api_download_and_delete_on_s3(s3, api, django_capture_on_commit_callbacks):
    data = pdfgen.blank_pdf(marker="s3")
    created = api.post(
        "/api/documents/", {"file": SimpleUploadedFile("s3.pdf", data)}, format="multipart"
    ).json()
    download = api.get(f"/api/documents/{created['id']}/file")
    assert b"".join(download.streaming_content) == data
    assert len(keys(s3)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/documents/{created['id']}/").status_code == 204
    assert keys(s3) == []
