"""Security matrix: every endpoint under /api/ x another user's ids -> 404, anonymous -> 401;
recognisable fake provider keys never reach logs, a database dump, task payloads or admin HTML
after real extractions (providers that echo the key in their error messages included);
`check --deploy` clean with production settings."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_q.models import OrmQ, Schedule, Task

from extraction.models import Document, ExtractionRun
from tests.extraction.pipeline import INVOICE_PDF, make_document, seeded_profile

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

REPO_ROOT = Path(__file__).resolve().parents[2]

FAKE_KEYS = {
    "OPENAI_API_KEY": "sk-FAKEKEY-recognisable-openai-1234567890",
    "GEMINI_API_KEY": "AIzaFAKEKEY-recognisable-gemini-1234567890",
    "ANTHROPIC_API_KEY": "sk-ant-FAKEKEY-recognisable-anthropic-1234567890",
    "LITELLM_API_KEY": "litellm-FAKEKEY-recognisable-1234567890",
}
# Fragments that identify a key even when cut or partly masked.
KEY_FRAGMENTS = ["FAKEKEY-recognisable"]
PUBLIC = {"api/schema/", "api/docs/"}  # the OpenAPI schema and its UI are open by design
METHODS = ("get", "post", "put", "patch", "delete")


def api_routes():
    """(route, view class) for every URL pattern under /api/."""

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route, getattr(pattern.callback, "cls", None) or pattern.callback

    return [(r, v) for r, v in walk(get_resolver().url_patterns, "") if r.startswith("api/")]


def methods_of(view) -> list[str]:
    return [m for m in METHODS if hasattr(view, m)]


def url_for(route: str, *, document_id, run_id, endpoint_id=None) -> str:
    url = route.replace("<uuid:document_id>", str(document_id)).replace(
        "<uuid:run_id>", str(run_id)
    )
    url = url.replace("<uuid:endpoint_id>", str(endpoint_id or uuid.uuid4()))
    assert "<" not in url, f"{route}: a parameter this matrix does not know; add it"
    return "/" + url


@pytest.fixture
def theirs(other_user):
    seeded_profile("invoice")
    document = make_document(other_user)
    run = ExtractionRun.objects.create(
        document=document,
        profile=seeded_profile("invoice"),
        profile_version=1,
        instructions="x",
        schema={"type": "object"},
        requested_model="gemini/gemini-2.5-flash",
        status="failed",
        error_code="x",
    )
    return document, run


@pytest.fixture
def their_endpoint(other_user):
    from extraction.webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        owner=other_user, url="https://hooks.example.com/x", secret="whsec_" + "E" * 43
    )


def test_the_matrix_covers_every_api_endpoint():
    routes = {r for r, _ in api_routes()}
    assert routes >= {
        "api/documents/",
        "api/documents/<uuid:document_id>/",
        "api/documents/<uuid:document_id>/file",
        "api/documents/<uuid:document_id>/extractions/",
        "api/profiles/",
        "api/extractions/",
        "api/extractions/<uuid:run_id>/",
        "api/extractions/<uuid:run_id>/cancel/",
        "api/extractions/<uuid:run_id>/retry/",
        "api/webhooks/",
        "api/webhooks/<uuid:endpoint_id>/",
        "api/webhooks/<uuid:endpoint_id>/rotate-secret/",
        "api/webhooks/<uuid:endpoint_id>/test/",
        "api/webhooks/<uuid:endpoint_id>/deliveries/",
    }


def test_another_users_ids_are_404_on_every_endpoint_and_method(api, theirs, their_endpoint):
    document, run = theirs
    checked = 0
    for route, view in api_routes():
        if route in PUBLIC or "<" not in route:
            continue
        url = url_for(route, document_id=document.pk, run_id=run.pk, endpoint_id=their_endpoint.pk)
        for method in methods_of(view):
            response = getattr(api, method)(url, {}, format="json")
            assert response.status_code == 404, (method, url, response.content)
            assert response.json()["code"] == "not_found", (method, url)
            checked += 1
    assert checked >= 8
    assert Document.objects.filter(pk=document.pk).exists()
    run.refresh_from_db()
    assert run.status == "failed"  # no retry, no cancel went through
    their_endpoint.refresh_from_db()
    assert their_endpoint.secret == "whsec_" + "E" * 43  # no rotation went through


def test_another_users_objects_are_in_no_list_or_filter(api, theirs, their_endpoint):
    document, run = theirs
    for route, view in api_routes():
        if route in PUBLIC or "<" in route or "get" not in methods_of(view):
            continue
        for query in ("", f"?document={document.pk}", f"?document_id={document.pk}"):
            response = api.get("/" + route + query)
            assert response.status_code in (200, 400), (route, query, response.content)
            body = response.content.decode()
            assert str(document.pk) not in body and str(run.pk) not in body, (route, query)
            assert str(their_endpoint.pk) not in body, (route, query)


def test_anonymous_is_401_on_every_endpoint_and_method(anon_api, user):
    document = make_document(user)
    run_id = uuid.uuid4()
    checked = 0
    for route, view in api_routes():
        if route in PUBLIC:
            continue
        url = url_for(route, document_id=document.pk, run_id=run_id)
        for method in methods_of(view):
            response = getattr(anon_api, method)(url)
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.json()["code"] == "not_authenticated"
            checked += 1
    assert checked >= 12


def test_public_api_routes_are_only_the_schema_and_its_ui(anon_api):
    for route in PUBLIC:
        assert anon_api.get("/" + route).status_code == 200


# --- fake keys ----------------------------------------------------------------------------------


@pytest.fixture
def fake_keys(settings, direct_to_simulator, monkeypatch):
    """direct_to_simulator, with this module's recognisable keys (in the environment too)."""
    for name, value in FAKE_KEYS.items():
        setattr(settings, name, value)
        monkeypatch.setenv(name, value)
    return direct_to_simulator


def echo_key_faults(simulator, *, anthropic_too: bool) -> None:
    """Providers answering with the caller's key in the error text (as real auth errors do)."""
    simulator.fault(
        provider="gemini",
        operation="generate",
        status=400,
        message=f"API key not valid: {FAKE_KEYS['GEMINI_API_KEY']}",
    )
    simulator.fault(
        provider="openai",
        operation="*",
        status=401,
        message=f"Incorrect API key provided: {FAKE_KEYS['OPENAI_API_KEY']}.",
    )
    if anthropic_too:
        simulator.fault(
            provider="anthropic",
            operation="*",
            status=401,
            message=f"invalid x-api-key {FAKE_KEYS['ANTHROPIC_API_KEY']}",
        )


def assert_no_key(text: str, where: str) -> None:
    for value in [*FAKE_KEYS.values(), *KEY_FRAGMENTS]:
        assert value not in text, f"a fake key ({value[:12]}…) appears in {where}"


def test_fake_keys_never_leak_into_logs_dump_tasks_or_admin(
    api, fake_keys, django_capture_on_commit_callbacks, caplog, capfd, admin_client
):
    simulator = fake_keys
    caplog.set_level(logging.DEBUG)
    seeded_profile("invoice")
    with INVOICE_PDF.open("rb") as fh:
        document_id = api.post("/api/documents/", {"file": fh}, format="multipart").json()["id"]
    bodies = []
    for anthropic_too in (False, True):  # one run falls back and succeeds, one fails everywhere
        simulator.reset()
        echo_key_faults(simulator, anthropic_too=anthropic_too)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(
                f"/api/documents/{document_id}/extractions/", {"profile": "invoice"}, format="json"
            )
        assert response.status_code == 202, response.content
        body = api.get(response["Location"])
        bodies.append(body.content.decode())
    runs = list(ExtractionRun.objects.order_by("created_at"))
    assert [r.status for r in runs] == ["succeeded", "failed"], [
        (r.status, r.error_code, r.error_message) for r in runs
    ]
    # The providers really echoed the keys (else this test proves nothing).
    echoed = [e for e in simulator.requests() if e["status"] and e["status"] >= 400]
    assert echoed
    assert any(a.http_status in (400, 401) for r in runs for a in r.attempts.all())

    for body in bodies:
        assert_no_key(body, "the API's run detail")
    assert_no_key(caplog.text, "log records (caplog, DEBUG)")
    assert_no_key("\n".join(str(r.__dict__) for r in caplog.records), "log record attributes")
    out, err = capfd.readouterr()
    assert_no_key(out + err, "captured stdout/stderr")

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)  # every model of every app, django-q2's included
    assert_no_key(dump.getvalue(), "dumpdata")
    payloads = [repr((t.func, t.args, t.kwargs, t.result)) for t in Task.objects.all()]
    payloads += [repr(q.task) for q in OrmQ.objects.all()]
    payloads += [repr((s.func, s.args, s.kwargs)) for s in Schedule.objects.all()]
    assert Task.objects.exists()
    assert_no_key("\n".join(payloads), "django-q2 task payloads")

    pages = admin_pages(admin_client)
    assert len(pages) >= 10
    for url, html in pages.items():
        assert_no_key(html, f"admin page {url}")


def admin_pages(client) -> dict[str, str]:
    """Every admin changelist, add page and change page of every object, and the dashboard."""
    pages = {}
    urls = [reverse("admin:index"), reverse("admin-dashboard")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        for pk in model._default_manager.values_list("pk", flat=True)[:50]:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[pk]))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.content.decode()
    return pages


@pytest.mark.qcluster
@pytest.mark.django_db(transaction=True)
def test_fake_keys_never_reach_a_real_worker_process_log(simulator, user, tmp_path, monkeypatch):
    """A real qcluster process with the keys in its environment and DEBUG logging: its whole
    stdout/stderr and the task rows it wrote hold no key."""
    from django_q.conf import Conf

    from extraction.services.runs import extraction_run_enqueue
    from tests.extraction.qcluster import (
        QCluster,
        create_cache_table,
        direct_environment,
        require_postgresql,
        wait_for,
    )

    require_postgresql()
    create_cache_table()
    monkeypatch.setattr(Conf, "SYNC", False)
    echo_key_faults(simulator, anthropic_too=False)
    env = {**direct_environment(simulator), **FAKE_KEYS, "LOG_LEVEL": "DEBUG"}
    qc = QCluster(tmp_path / "qcluster.log", env)
    try:
        run = extraction_run_enqueue(
            document=make_document(user), profile=seeded_profile("invoice"), trigger="command"
        )
        run = wait_for(
            lambda: ExtractionRun.objects.filter(
                pk=run.pk, status__in=ExtractionRun.TERMINAL_STATUSES
            ).first(),
            timeout=60,
            what="the run to finish",
        )
        wait_for(lambda: Task.objects.exists(), timeout=10, what="the task row")
    finally:
        qc.stop()
    assert run.status == "succeeded", (run.error_code, run.error_message)
    assert run.attempts.filter(http_status__in=[400, 401]).exists()
    log = qc.log()
    assert "DEBUG" in log  # the most talkative level really ran
    assert_no_key(log, "the worker's stdout/stderr")
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert_no_key(dump.getvalue(), "dumpdata after a real worker run")
    assert_no_key(
        "\n".join(repr((t.args, t.kwargs, t.result)) for t in Task.objects.all()),
        "task payloads",
    )


def test_check_deploy_is_clean_with_production_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "LLM_", "LITELLM_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "remorai.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "reliability-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "DJANGO_ALLOWED_HOSTS": "remorai.example.com",
            **FAKE_KEYS,
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert_no_key(result.stdout + result.stderr, "check --deploy output")
