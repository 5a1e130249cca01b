"""The OpenAPI schema is the truth (#17 §3): a client generated from /api/schema/ by
openapi-python-client (offline) drives the main flows against a live server, and every answer —
queued, cancelled, succeeded runs, lists, a 400, 409s and 422s — parses into the declared models
without error and with the fields a client reads (`active_run_id`, `known`, `status`, `errors`,
`count_capped`).

The client is strict: `raise_on_unexpected_status=True` (an undeclared status raises), and its
models raise on a value the schema does not allow (an enum, a missing required field).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from extraction import models as orm
from tests.extraction.pipeline import INVOICE_PDF, seeded_profile

pytestmark = pytest.mark.timeout(180)

PACKAGE = "remorai_api_client"
CONFIG = {
    # The PDF download is bytes whatever its media type; without this the generator omits it.
    "content_type_overrides": {"application/pdf": "application/octet-stream"},
    "post_hooks": [],  # no formatter run on the generated code
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from the schema a running server serves."""
    from django.test import Client

    root = tmp_path_factory.mktemp("generated-client")
    schema = Client().get("/api/schema/?format=json")
    assert schema.status_code == 200
    (root / "schema.json").write_bytes(schema.content)
    (root / "config.json").write_text(json.dumps(CONFIG))
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(root / "schema.json"),
            "--config",
            str(root / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
def no_cluster(monkeypatch):
    """Tasks go to the ORM broker and wait there (no cluster runs): runs stay queued."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def remote(generated, live_server, transactional_db, django_user_model, no_cluster):
    user = django_user_model.objects.create_user(username="consumer", password="pw-consumer-1")
    seeded_profile("invoice")
    seeded_profile("summary")
    token = Token.objects.create(user=user).key
    client = generated.AuthenticatedClient(
        base_url=live_server.url,
        token=token,
        prefix="Token",
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(30.0),
    )
    with client as opened:
        yield opened


def test_a_generated_client_drives_the_main_flows(generated, remote):
    from remorai_api_client.api.documents import (
        documents_create,
        documents_extractions_create,
        documents_extractions_list,
        documents_file,
        documents_retrieve,
    )
    from remorai_api_client.api.extractions import (
        extractions_cancel_create,
        extractions_list,
        extractions_retrieve,
        extractions_retry_create,
    )
    from remorai_api_client.api.profiles import profiles_list
    from remorai_api_client.models import (
        BlankEnum,
        Document,
        DocumentUploadRequest,
        Error,
        ExtractionAccepted,
        ExtractionCreateRequest,
        ExtractionFinishedError,
        ExtractionInProgressError,
        ExtractionRequestError,
        ExtractionRun,
        ExtractionRunDetail,
        PaginatedExtractionRunList,
        RunRouteEnum,
        StatusEnum,
    )
    from remorai_api_client.types import File

    assert {p.slug for p in profiles_list.sync(client=remote)} >= {"invoice", "summary"}

    # Upload (multipart), then the same bytes again: 200 with the same document.
    pdf = INVOICE_PDF.read_bytes()

    def upload():
        body = DocumentUploadRequest(file=File(payload=_bytes(pdf), file_name="invoice.pdf"))
        return documents_create.sync_detailed(client=remote, body=body)

    first, again = upload(), upload()
    assert (first.status_code, again.status_code) == (201, 200)
    document = first.parsed
    assert isinstance(document, Document) and again.parsed.id == document.id
    assert documents_retrieve.sync(document.id, client=remote).sha256 == document.sha256
    assert documents_file.sync(document.id, client=remote).payload.read() == pdf

    # Create: 202; poll the queued run (route "" until a provider is reached).
    accepted = documents_extractions_create.sync(
        document.id, client=remote, body=ExtractionCreateRequest(profile="invoice")
    )
    assert isinstance(accepted, ExtractionAccepted) and accepted.status == "queued"
    queued = extractions_retrieve.sync(accepted.id, client=remote)
    assert isinstance(queued, ExtractionRunDetail)
    assert queued.status == StatusEnum.QUEUED and queued.route == BlankEnum.VALUE_0
    assert queued.error is None and queued.attempts == []

    # 409 while it is active: the active run's id is readable.
    conflict = documents_extractions_create.sync(
        document.id, client=remote, body=ExtractionCreateRequest(profile="invoice")
    )
    assert isinstance(conflict, ExtractionInProgressError)
    assert conflict.code == "extraction_in_progress" and conflict.active_run_id == accepted.id

    # 422s: the unknown profile, the unknown model and the models one may ask for.
    unknown = documents_extractions_create.sync(
        document.id, client=remote, body=ExtractionCreateRequest(profile="nope")
    )
    assert isinstance(unknown, ExtractionRequestError)
    assert (unknown.code, unknown.profile) == ("unknown_profile", "nope")
    bad_model = documents_extractions_create.sync(
        document.id, client=remote, body=ExtractionCreateRequest(profile="summary", model="x/y")
    )
    assert isinstance(bad_model, ExtractionRequestError) and bad_model.code == "unknown_model"
    assert bad_model.model == "x/y" and "gemini/gemini-2.5-flash" in bad_model.known

    # List pages: count_capped declared and read; a bad filter is a 400 with its errors.
    page = extractions_list.sync(client=remote)
    assert isinstance(page, PaginatedExtractionRunList)
    assert page.count == 1 and page.count_capped is False
    assert page.results[0].route == BlankEnum.VALUE_0
    history = documents_extractions_list.sync(document.id, client=remote)
    assert [r.id for r in history.results] == [accepted.id] and history.count_capped is False
    # (the generated client cannot send a malformed date: sent raw, read with its model)
    raw = remote.get_httpx_client().get("/api/extractions/", params={"created_after": "x"})
    assert raw.status_code == 400
    invalid = Error.from_dict(raw.json())
    assert invalid.code == "invalid" and "created_after" in invalid.errors.to_dict()

    # Cancel: 200 with the run, again 200 as it is; a list holding it still parses.
    cancelled = extractions_cancel_create.sync(accepted.id, client=remote)
    assert isinstance(cancelled, ExtractionRun) and cancelled.status == StatusEnum.CANCELLED
    assert cancelled.route == BlankEnum.VALUE_0
    assert extractions_cancel_create.sync(accepted.id, client=remote).status == cancelled.status
    assert extractions_list.sync(client=remote).results[0].status == StatusEnum.CANCELLED

    # Retry: 202 and a new queued run; retrying either while it is active is a 409.
    retried = extractions_retry_create.sync(accepted.id, client=remote)
    assert isinstance(retried, ExtractionAccepted) and retried.id != accepted.id
    for run_id in (retried.id, accepted.id):
        busy = extractions_retry_create.sync(run_id, client=remote)
        assert isinstance(busy, ExtractionInProgressError) and busy.active_run_id == retried.id

    # A finished run (its terminal write, as the worker leaves it): parsed; cancel is a 409.
    _succeed(retried.id)
    done = extractions_retrieve.sync(retried.id, client=remote)
    assert done.status == StatusEnum.SUCCEEDED and done.route == RunRouteEnum.DIRECT
    assert done.result == {"total": "12.50"} and done.cost_usd == "0.001200"
    finished = extractions_cancel_create.sync(retried.id, client=remote)
    assert isinstance(finished, ExtractionFinishedError)
    assert (finished.code, finished.status) == ("extraction_finished", "succeeded")
    statuses = {r.status for r in extractions_list.sync(client=remote).results}
    assert statuses == {StatusEnum.SUCCEEDED, StatusEnum.CANCELLED}

    # Not yours / no such run: 404, an Error.
    missing = extractions_retrieve.sync_detailed(_other_id(accepted.id), client=remote)
    assert missing.status_code == 404 and missing.parsed.code == "not_found"


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)


def _other_id(run_id):
    import uuid

    return uuid.UUID(int=(run_id.int + 1) % (1 << 128))


def _succeed(run_id) -> None:
    now = timezone.now()
    orm.ExtractionRun.objects.filter(pk=run_id).update(
        status=orm.ExtractionRun.Status.SUCCEEDED,
        route=orm.Route.DIRECT,
        model_used="gemini/gemini-2.5-flash",
        result={"total": "12.50"},
        input_tokens=100,
        output_tokens=20,
        cost_usd="0.0012",
        started_at=now,
        finished_at=now,
        attempt_count=1,
    )
