import json
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from extraction.models import (
    ExtractionAttempt,
    ExtractionBatch,
    ExtractionProfile,
    ExtractionRun,
    UploadedFile,
)
from tests.factories import DocumentFactory, RemoteCopyFactory, RunFactory

pytestmark = pytest.mark.django_db

PDF = Path(__file__).resolve().parents[3] / "tests/fixtures/pdfs/good/issue-140-example.pdf"


@pytest.fixture
def world(staff, profile):
    doc = DocumentFactory(owner=staff, original_name="invoice.pdf")
    ok = RunFactory(
        document=doc,
        profile=profile,
        result={"invoice_number": "A1", "amount": 4.11},
        simulated=True,
    )
    ExtractionAttempt.objects.create(
        run=ok,
        route="proxy",
        provider="litellm",
        model="gemini/gemini-2.5-flash",
        started_at=ok.started_at,
        latency_ms=120,
        outcome="ok",
        input_tokens=10,
        output_tokens=5,
    )
    failed = RunFactory(
        document=doc,
        profile=profile,
        status="failed",
        error_code="no_route_available",
        error_message="all down",
    )
    other = DocumentFactory(owner=staff, original_name="other.pdf")
    queued = RunFactory(document=other, profile=profile, status="queued")
    remote = RemoteCopyFactory(document=doc)
    batch = ExtractionBatch.objects.create(provider="openai", model="openai/gpt-4o", status="done")
    RunFactory(document=other, profile=profile, batch=batch)
    return {"doc": doc, "ok": ok, "failed": failed, "queued": queued, "remote": remote}


def _object_for(model, world):
    found = {
        "extraction.document": world["doc"],
        "extraction.extractionrun": world["ok"],
        "extraction.uploadedfile": world["remote"],
        "extraction.extractionprofile": world["ok"].profile,
    }
    key = f"{model._meta.app_label}.{model._meta.model_name}"
    return found.get(key, model._default_manager.first())


def test_every_changelist_and_change_page_renders(admin_client, world):
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        obj = _object_for(model, world)
        if obj is not None:
            response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert response.status_code == 200, info
        if model_admin.has_add_permission(response.wsgi_request):
            assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, (
                info
            )


def test_run_changelist_filters_and_search(admin_client, world):
    url = reverse("admin:extraction_extractionrun_changelist")
    for query in (
        "?status__exact=failed",
        f"?profile__id__exact={world['ok'].profile_id}",
        "?model_used=gemini/gemini-2.5-flash",
        "?requested_model=gemini/gemini-2.5-flash",
        "?route__exact=proxy",
        "?trigger__exact=api",
        "?simulated__exact=1",
        "?created_at__gte=2000-01-01+00:00:00%2B00:00",
        "?q=invoice",
    ):
        response = admin_client.get(url + query)
        assert response.status_code == 200, query
    assert (
        "no_route_available" not in admin_client.get(url + "?status__exact=queued").content.decode()
    )


def test_run_page_shows_result_json_attempts_usage_and_simulated_flag(admin_client, world):
    response = admin_client.get(
        reverse("admin:extraction_extractionrun_change", args=[world["ok"].pk])
    )
    html = response.content.decode()
    assert (
        '<pre class="run-result">' in html and "&quot;invoice_number&quot;: &quot;A1&quot;" in html
    )
    assert 'class="run-attempts"' in html and "litellm" in html
    assert "SIMULATED" in html
    assert "Re-extract" in html and "Review" in html


def test_document_page_lists_runs_and_remote_copies(admin_client, world):
    html = admin_client.get(
        reverse("admin:extraction_document_change", args=[world["doc"].pk])
    ).content.decode()
    assert "runs (history)" in html.lower()
    assert str(world["ok"].pk)[:8] in html and "no_route_available" not in html
    assert world["remote"].remote_id in html


def _action(client, model_name, action, ids, **extra):
    url = reverse(f"admin:extraction_{model_name}_changelist")
    data = {"action": action, "_selected_action": [str(i) for i in ids], **extra}
    return client.post(url, data)


def _reextract(client, ids, *, model="", profile=""):
    """The re-extract action's form, applied (file transport)."""
    return _action(
        client, "extractionrun", "reextract_action", ids,
        apply="1", model=model, transport="file", profile=profile,
    )  # fmt: skip


def test_reextract_action_shows_a_form_then_starts_runs(admin_client, world, admin_user):
    response = _action(admin_client, "extractionrun", "reextract_action", [world["ok"].pk])
    assert response.status_code == 200 and b"reextract-form" in response.content
    response = _reextract(admin_client, [world["ok"].pk], model="openai/gpt-4o-mini")
    assert response.status_code == 302
    new = ExtractionRun.objects.get(redo_of=world["ok"])
    assert (new.trigger, new.requested_model, new.status) == (
        "admin",
        "openai/gpt-4o-mini",
        "queued",
    )
    assert new.requested_by == admin_user


def test_reextract_refused_while_a_run_is_active(admin_client, world):
    response = _reextract(admin_client, [world["queued"].pk])
    assert response.status_code == 302
    assert not ExtractionRun.objects.filter(redo_of=world["queued"]).exists()


def test_reextract_of_several_runs_starts_the_free_ones_and_counts_the_busy(
    admin_client, world, profile
):
    other_profile = ExtractionProfile.objects.create(
        slug="ops-other",
        name="Ops other",
        instructions="Other fields.",
        schema=profile.schema,
        default_model="gemini/gemini-2.5-flash",
    )
    selected = [world["ok"].pk, world["failed"].pk, world["queued"].pk]
    response = _reextract(admin_client, selected, profile=str(other_profile.pk))
    assert response.status_code == 302
    # Another profile: each document is free for it once. The two runs of "invoice.pdf" ask for
    # two new runs of the same document and profile: one starts, the other is counted as busy.
    new = ExtractionRun.objects.filter(profile=other_profile)
    assert sorted(r.document.original_name for r in new) == ["invoice.pdf", "other.pdf"]
    assert {r.redo_of_id for r in new} <= set(selected)
    texts = [m.message for m in get_messages(response.wsgi_request)]
    assert "Started 2 extraction(s)." in texts
    assert any(t.startswith("1 skipped: an extraction of that document") for t in texts)


def test_cancel_action_asks_for_confirmation_first(admin_client, world):
    response = _action(admin_client, "extractionrun", "cancel_action", [world["queued"].pk])
    assert response.status_code == 200 and b"Yes, I'm sure" in response.content
    world["queued"].refresh_from_db()
    assert world["queued"].status == "queued"
    _action(admin_client, "extractionrun", "cancel_action", [world["queued"].pk], confirm="yes")
    world["queued"].refresh_from_db()
    assert world["queued"].status == "cancelled"


def test_cancel_and_retry_from_the_run_page(admin_client, world):
    url = reverse("admin:extraction_extractionrun_cancel", args=[world["queued"].pk])
    assert admin_client.post(url).status_code == 200  # the confirmation page
    assert admin_client.post(url, {"confirm": "yes"}).status_code == 302
    world["queued"].refresh_from_db()
    assert world["queued"].status == "cancelled"
    url = reverse("admin:extraction_extractionrun_retry", args=[world["failed"].pk])
    assert admin_client.get(url).status_code == 302
    assert not ExtractionRun.objects.filter(redo_of=world["failed"]).exists()  # GET changes nothing
    admin_client.post(url)
    assert ExtractionRun.objects.get(redo_of=world["failed"]).trigger == "admin"


def test_retry_failed_action_only_retries_failed_runs(admin_client, world):
    ids = [world["failed"].pk, world["ok"].pk]
    assert _action(admin_client, "extractionrun", "retry_failed_action", ids).status_code == 302
    assert ExtractionRun.objects.filter(redo_of=world["failed"]).count() == 1
    assert not ExtractionRun.objects.filter(redo_of=world["ok"]).exists()


def test_actions_need_their_own_permission(client, django_user_model, world):
    clerk = django_user_model.objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_extractionrun"))
    client.force_login(clerk)
    changelist = client.get(reverse("admin:extraction_extractionrun_changelist"))
    assert changelist.status_code == 200
    assert b"reextract_action" not in changelist.content
    assert b"cancel_action" not in changelist.content
    for name in ("reextract", "cancel", "retry", "review"):
        url = reverse(f"admin:extraction_extractionrun_{name}", args=[world["ok"].pk])
        assert client.post(url).status_code == 403, name
    clerk.user_permissions.add(Permission.objects.get(codename="cancel_run"))
    url = reverse("admin:extraction_extractionrun_cancel", args=[world["queued"].pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    world["queued"].refresh_from_db()
    assert world["queued"].status == "cancelled"


def test_compare_two_runs_highlights_differences(admin_client, world, profile):
    other = RunFactory(
        document=world["doc"],
        profile=profile,
        result={"invoice_number": "A1", "amount": "4,11", "currency": "EUR"},
    )
    response = _action(admin_client, "extractionrun", "compare_action", [world["ok"].pk, other.pk])
    assert response.status_code == 302
    html = admin_client.get(response["Location"]).content.decode()
    assert '<tr class="" data-field="invoice_number">' in html
    assert '<tr class="diff-normalised" data-field="amount">' in html
    assert '<tr class="diff" data-field="currency">' in html


def test_review_stores_correction_beside_the_result(admin_client, world, admin_user):
    url = reverse("admin:extraction_extractionrun_review", args=[world["ok"].pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"invoice_number": "A-1", "amount": "4.12", "date": "", "currency": "EUR", "issuer": ""},
    )
    assert response.status_code == 302
    run = ExtractionRun.objects.get(pk=world["ok"].pk)
    assert run.result == {"invoice_number": "A1", "amount": 4.11}
    assert run.reviewed_result == {
        "invoice_number": "A-1",
        "amount": 4.12,
        "date": None,
        "currency": "EUR",
        "issuer": None,
    }
    assert run.reviewer == admin_user and run.reviewed_at is not None


def test_review_rejects_a_value_of_the_wrong_type(admin_client, world):
    url = reverse("admin:extraction_extractionrun_review", args=[world["ok"].pk])
    response = admin_client.post(url, {"invoice_number": "A1", "amount": "four"})
    assert response.status_code == 200 and b"Enter a number" in response.content
    assert ExtractionRun.objects.get(pk=world["ok"].pk).reviewed_result is None


def test_review_refused_for_a_failed_run(admin_client, world):
    url = reverse("admin:extraction_extractionrun_review", args=[world["failed"].pk])
    assert admin_client.post(url, {"amount": "1"}).status_code == 302
    assert ExtractionRun.objects.get(pk=world["failed"].pk).reviewed_result is None


def test_delete_remote_copy_action_confirms_then_deletes(
    admin_client, world, fake_gateway, profile
):
    remote = world["remote"]
    response = _action(admin_client, "uploadedfile", "delete_remote_copy_action", [remote.pk])
    assert response.status_code == 200 and b"Yes, I'm sure" in response.content
    assert fake_gateway.deleted == []
    _action(admin_client, "uploadedfile", "delete_remote_copy_action", [remote.pk], confirm="yes")
    assert fake_gateway.deleted == [remote.remote_id]
    remote.refresh_from_db()
    assert remote.state == "deleted"


def test_delete_remote_copy_keeps_a_copy_in_use(admin_client, world, fake_gateway):
    in_use = RemoteCopyFactory(document=world["queued"].document, provider="openai")
    _action(admin_client, "uploadedfile", "delete_remote_copy_action", [in_use.pk], confirm="yes")
    assert fake_gateway.deleted == []
    in_use.refresh_from_db()
    assert in_use.state == "active"


def test_reconcile_marks_copies_the_provider_no_longer_has(admin_client, world, fake_gateway):
    kept = world["remote"]
    gone = RemoteCopyFactory(
        document=DocumentFactory(owner=kept.document.owner, original_name="z.pdf")
    )
    fake_gateway.held = {kept.remote_id: kept.bytes}
    response = _action(admin_client, "uploadedfile", "reconcile_action", [kept.pk, gone.pk])
    assert response.status_code == 302
    assert UploadedFile.objects.get(pk=kept.pk).state == "active"
    assert UploadedFile.objects.get(pk=gone.pk).state == "expired"


def test_profile_admin_validates_schema_and_bumps_version(admin_client, profile):
    url = reverse("admin:extraction_extractionprofile_change", args=[profile.pk])
    data = {
        "name": profile.name,
        "instructions": "New instructions.",
        "schema": json.dumps({"type": "array"}),
        "default_model": profile.default_model,
        "fallback_models": json.dumps(profile.fallback_models),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200 and b"top level of the schema" in response.content
    data["schema"] = json.dumps(profile.schema)
    assert admin_client.post(url, data).status_code == 302
    profile.refresh_from_db()
    assert (profile.version, profile.instructions) == (2, "New instructions.")

    add = reverse("admin:extraction_extractionprofile_add")
    response = admin_client.post(add, {**data, "slug": "new-one", "default_model": "nope/model"})
    assert response.status_code == 200 and b"Unknown model" in response.content
    assert admin_client.post(add, {**data, "slug": "new-one"}).status_code == 302
    assert ExtractionProfile.objects.get(slug="new-one").version == 1


def test_admin_upload_can_start_an_extraction(admin_client, admin_user, profile):
    if not PDF.is_file():
        pytest.fail(f"missing test PDF {PDF}")
    with PDF.open("rb") as fh:
        response = admin_client.post(
            reverse("admin:extraction_document_add"),
            {"owner": admin_user.pk, "upload": fh, "extract_with": profile.pk, "model": ""},
        )
    assert response.status_code == 302, response.content[:2000]
    run = ExtractionRun.objects.get()
    assert (run.trigger, run.requested_model, run.requested_by) == (
        "admin",
        profile.default_model,
        admin_user,
    )


def test_admin_index_links_to_the_dashboard(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin-dashboard") in html


def test_review_of_the_seeded_invoice_schema_with_line_items(admin_client, staff):
    from extraction.profile_seeds import PROFILES

    spec = next(p for p in PROFILES if p["slug"] == "invoice")
    profile, _ = ExtractionProfile.objects.get_or_create(slug="invoice", defaults=spec)
    fields = list(profile.schema["properties"])
    result = dict.fromkeys(fields)
    result["line_items"] = [{"description": "A", "quantity": 1, "unit_price": 2, "amount": 2}]
    run = RunFactory(document=DocumentFactory(owner=staff), profile=profile, result=result)
    url = reverse("admin:extraction_extractionrun_review", args=[run.pk])
    data = dict.fromkeys(fields, "")
    data["total"] = "12.5"
    data["line_items"] = "not json"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and b"Enter JSON" in response.content
    data["line_items"] = '[{"description": "B", "quantity": 2, "unit_price": 1, "amount": 2}]'
    assert admin_client.post(url, data).status_code == 302
    run.refresh_from_db()
    assert run.reviewed_result["total"] == 12.5
    assert run.reviewed_result["line_items"][0]["description"] == "B"
    assert run.result["line_items"][0]["description"] == "A"


def test_compare_with_a_bad_or_unknown_run_id_is_a_404(admin_client, world):
    url = reverse("admin:extraction_extractionrun_compare")
    assert admin_client.get(url + "?left=garbage").status_code == 404
    assert admin_client.get(url).status_code == 404
    ok = world["ok"].pk
    assert (
        admin_client.get(f"{url}?left={ok}&right=00000000-0000-0000-0000-000000000000").status_code
        == 404
    )


def test_remote_copy_actions_need_their_own_permission(
    client, django_user_model, world, fake_gateway
):
    clerk = django_user_model.objects.create_user("clerk2", password="pw-clerk-2", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_uploadedfile"))
    client.force_login(clerk)
    page = client.get(reverse("admin:extraction_uploadedfile_changelist"))
    assert page.status_code == 200 and b"delete_remote_copy_action" not in page.content
    remote = world["remote"]
    _action(client, "uploadedfile", "delete_remote_copy_action", [remote.pk], confirm="yes")
    assert fake_gateway.deleted == []
    clerk.user_permissions.add(Permission.objects.get(codename="delete_remote_copy"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # fresh permission cache
    client.force_login(clerk)
    _action(client, "uploadedfile", "delete_remote_copy_action", [remote.pk], confirm="yes")
    assert fake_gateway.deleted == [remote.remote_id]


def test_a_batch_job_the_simulator_answered_is_labelled_simulated(admin_client, staff, profile):
    simulated = ExtractionBatch.objects.create(provider="gemini", model="gemini/gemini-2.5-flash")
    real = ExtractionBatch.objects.create(provider="openai", model="openai/gpt-4o")
    RunFactory(document=DocumentFactory(owner=staff), profile=profile, batch=simulated)
    RunFactory(
        document=DocumentFactory(owner=staff), profile=profile, batch=simulated, simulated=True
    )
    RunFactory(document=DocumentFactory(owner=staff), profile=profile, batch=real)
    listing = admin_client.get(reverse("admin:extraction_extractionbatch_changelist"))
    assert listing.content.decode().count(">SIMULATED</span>") == 1
    page = admin_client.get(
        reverse("admin:extraction_extractionbatch_change", args=[simulated.pk])
    ).content.decode()
    assert ">SIMULATED</span>" in page and "answered by the provider simulator" in page
    page = admin_client.get(reverse("admin:extraction_extractionbatch_change", args=[real.pk]))
    assert ">SIMULATED</span>" not in page.content.decode()
