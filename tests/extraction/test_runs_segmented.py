"""Long documents through the whole pipeline (#14): runs over the real LLM stack and the provider
simulator (real HTTP), whose answers come from the sub-PDF each call sends and whose output-token
cap truncates for real."""

import re

import pytest

from extraction.models import ExtractionRun, UploadedFile
from extraction.services import lease as lease_module
from extraction.services.execution import extraction_run_execute
from extraction.services.runs import extraction_run_enqueue
from extraction.textpdf import write_text_pdf
from tests.extraction.pipeline import make_document, seeded_profile

pytestmark = pytest.mark.django_db

Status = ExtractionRun.Status


def statement(path, pages: int, per_page: int):
    """A statement: its number and date on page 1, `per_page` lines a page, the total last."""

    def page(number):
        lines = ["Invoice number: ST-2026-11", "Issue date: 2026-11-30"] if number == 1 else []
        for n in range(per_page):
            lines += [f"Description: Line p{number} n{n}", f"Amount: {number}.{n:02d}"]
        return lines + (["Total: 999.00"] if number == pages else [])

    write_text_pdf(path, (page(n) for n in range(1, pages + 1)))
    return [f"Line p{p} n{n}" for p in range(1, pages + 1) for n in range(per_page)]


def run_on(user, path, profile="invoice", document=None):
    run = extraction_run_enqueue(
        document=document or make_document(user, path),
        profile=seeded_profile(profile),
        trigger="api",
    )
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def generations(simulator):
    return [r for r in simulator.requests(provider="gemini") if r["operation"] == "generate"]


def test_line_items_are_read_per_segment_and_merged_in_order_without_repeats(
    api, user, direct_to_simulator, tmp_path
):
    truth = statement(tmp_path / "statement.pdf", pages=25, per_page=3)
    run = run_on(user, tmp_path / "statement.pdf")
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert [i["description"] for i in run.result["line_items"]] == truth
    assert run.result["invoice_number"] == "ST-2026-11"  # the other fields: one call
    assert run.result["line_items"][-1]["amount"] == 25.02
    assert run.simulated and run.model_used == "gemini/gemini-2.5-flash"
    segments = run.segments
    assert segments["mode"] == "segmented"
    assert [c["pages"] for c in segments["calls"] if c["kind"] == "array"] == [
        "1-11",
        "11-21",
        "21-25",
    ]
    assert segments["arrays"] == [
        {"array": "line_items", "items": 75, "overlap_repeats_dropped": 6}  # pages 11 and 21
    ]
    assert segments["item_pages"]["line_items"] == [p for p in range(1, 26) for _ in range(3)]
    assert len(generations(direct_to_simulator)) == 4  # other fields + 3 segments
    copies = UploadedFile.objects.filter(state="active").values_list("pages", flat=True)
    assert sorted(copies) == ["", "1-11", "11-21", "21-25"]
    generated = run.attempts.filter(operation="generate").values_list("pages", flat=True)
    assert sorted(generated) == ["", "1-11", "11-21", "21-25"]  # each call's pages in its row
    detail = api.get(f"/api/extractions/{run.pk}/").json()
    assert detail["segments"]["item_pages"]["line_items"][:4] == [1, 1, 1, 2]
    assert {a["pages"] for a in detail["attempts"]} == {"", "1-11", "11-21", "21-25"}

    again = run_on(user, None, document=run.document)  # the same document: copies reused
    assert again.status == Status.SUCCEEDED
    assert UploadedFile.objects.count() == 4
    assert not again.attempts.filter(operation="upload").exists()


def test_a_segment_whose_answer_is_cut_is_split_in_two_and_retried(
    user, direct_to_simulator, tmp_path
):
    # 30 lines a page: 11 pages are ~8,000 output tokens, over the runs' 4,096 cap.
    truth = statement(tmp_path / "long.pdf", pages=12, per_page=30)
    run = run_on(user, tmp_path / "long.pdf")
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert [i["description"] for i in run.result["line_items"]] == truth
    assert "1-11" in run.segments["split"]  # really cut by the simulator's cap
    cut = run.attempts.filter(operation="generate", outcome="invalid_output")
    assert cut.exists() and set(cut.values_list("error_code", flat=True)) == {"output_truncated"}


def test_a_whole_document_answer_that_is_cut_fails_suggesting_segments(
    user, direct_to_simulator, tmp_path
):
    statement(tmp_path / "dense.pdf", pages=8, per_page=30)  # within one segment: one call
    run = run_on(user, tmp_path / "dense.pdf")
    assert (run.status, run.error_code) == (Status.FAILED, "output_truncated")
    assert "segments" in run.error_message
    assert run.segments is None


def test_the_run_fails_when_a_segment_fails_naming_its_pages(user, direct_to_simulator, tmp_path):
    statement(tmp_path / "statement.pdf", pages=25, per_page=1)
    for provider in ("gemini", "openai", "anthropic"):
        direct_to_simulator.fault(
            "error", provider=provider, operation="generate", status=400, count=None, after=2
        )
    run = run_on(user, tmp_path / "statement.pdf")
    assert (run.status, run.error_code) == (Status.FAILED, "request_rejected")
    # whichever call failed first is named (the calls run concurrently)
    assert re.match(
        r"(Segment pages \d+-\d+ \(line_items\)|Other fields): gemini", run.error_message
    )
    assert run.result is None


def test_cancelling_the_run_stops_its_segments(user, direct_to_simulator, tmp_path, monkeypatch):
    statement(tmp_path / "statement.pdf", pages=95, per_page=1)  # 10 segments + other fields
    checks = {"count": 0}

    def should_continue(self):
        checks["count"] += 1
        if checks["count"] > 6:
            self.cancel_requested = True
        return not self.cancel_requested

    monkeypatch.setattr(lease_module.Lease, "should_continue", should_continue)
    run = run_on(user, tmp_path / "statement.pdf")
    assert run.status == Status.CANCELLED
    assert len(generations(direct_to_simulator)) < 11


def test_a_cancel_through_the_service_stops_the_segments_not_yet_sent(
    user, direct_to_simulator, tmp_path, monkeypatch
):
    """The real path: the run's lease reads cancel_requested from the database at each call's
    checkpoint (no stub of the lease). The cancel comes once the first segment has answered."""
    from extraction.services import attempts as attempts_module
    from extraction.services.runs import extraction_run_cancel

    statement(tmp_path / "statement.pdf", pages=95, per_page=1)  # 10 segments + other fields
    direct_to_simulator.latency(0.3, provider="gemini", operation="generate")
    real = attempts_module.AttemptRecorder.__call__

    def record(self, attempt, **kwargs):
        real(self, attempt, **kwargs)
        if attempt.operation == "generate":  # (on the run's thread, as every database call)
            extraction_run_cancel(run=ExtractionRun.objects.get(pk=self.run_id))

    monkeypatch.setattr(attempts_module.AttemptRecorder, "__call__", record)
    run = run_on(user, tmp_path / "statement.pdf")
    assert (run.status, run.result) == (Status.CANCELLED, None)
    # the calls in flight when it came end (as a single call would); no other one is sent
    sent = len(generations(direct_to_simulator))
    assert sent <= 4, sent  # EXTRACTION_SEGMENT_CONCURRENCY


def small_models_profile(slug, segmenting):
    from extraction.services.profiles import extraction_profile_create

    return extraction_profile_create(
        slug=slug,
        name=slug,
        instructions="Describe the document.",
        schema=seeded_profile("summary").schema,
        default_model="openai/gpt-4o",
        fallback_models=["anthropic/claude-sonnet-4-6"],  # both: 100 pages at most
        segmenting=segmenting,
    )


def test_a_document_over_every_models_limits_is_map_reduced(user, direct_to_simulator, tmp_path):
    statement(tmp_path / "long.pdf", pages=120, per_page=1)
    profile = small_models_profile("mapped", {"map_reduce": {"pages": 50}})
    run = extraction_run_enqueue(
        document=make_document(user, tmp_path / "long.pdf"), profile=profile, trigger="api"
    )
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert run.segments["mode"] == "map_reduce"
    assert [(c["kind"], c["pages"]) for c in run.segments["calls"]] == [
        ("reduce", None),
        ("map", "1-50"),
        ("map", "51-100"),
        ("map", "101-120"),
    ]
    assert run.result["summary"]  # the combining call's answer, valid for the schema
    openai = direct_to_simulator.requests(provider="openai")
    assert len([r for r in openai if r["operation"] == "generate"]) == 4
    assert len([r for r in openai if r["operation"] == "upload"]) == 3  # the combining: inline


def test_a_profile_allowing_neither_keeps_document_too_large(user, direct_to_simulator, tmp_path):
    statement(tmp_path / "long.pdf", pages=120, per_page=1)
    profile = small_models_profile("unsegmented", {})
    run = extraction_run_enqueue(
        document=make_document(user, tmp_path / "long.pdf"), profile=profile, trigger="api"
    )
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error_code) == (Status.FAILED, "document_too_large_for_models")
    assert not direct_to_simulator.requests(operation="generate")


def test_over_every_limit_the_other_fields_come_from_the_first_and_last_pages(
    user, direct_to_simulator, tmp_path
):
    from extraction.services.profiles import extraction_profile_create

    truth = statement(tmp_path / "long.pdf", pages=120, per_page=1)
    profile = extraction_profile_create(
        slug="small-invoice",
        name="Invoice on small models",
        instructions="Read the invoice.",
        schema=seeded_profile("invoice").schema,
        default_model="openai/gpt-4o",
        fallback_models=["anthropic/claude-sonnet-4-6"],
        segmenting={"arrays": {"line_items": {"pages": 40, "overlap": 1}}},
    )
    run = extraction_run_enqueue(
        document=make_document(user, tmp_path / "long.pdf"), profile=profile, trigger="api"
    )
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert run.segments["other_fields_pages"] == [1, 2, 120]
    assert (run.result["invoice_number"], run.result["total"]) == ("ST-2026-11", 999.0)
    assert [i["description"] for i in run.result["line_items"]] == truth
    copies = sorted(UploadedFile.objects.values_list("pages", flat=True))
    assert copies == ["1-2,120", "1-41", "41-81", "81-120"]


def test_each_merged_items_evidence_is_on_the_page_it_was_read_on(
    user, direct_to_simulator, tmp_path
):
    # The same line on pages 3 and 14: each item's evidence points at its own page.
    def page(number):
        lines = ["Invoice number: ST-9"] if number == 1 else []
        name = "Repeated line" if number in (3, 14) else f"Line {number}"
        return lines + [f"Description: {name}", f"Amount: {number}.50"]

    write_text_pdf(tmp_path / "paged.pdf", (page(n) for n in range(1, 16)))
    run = run_on(user, tmp_path / "paged.pdf")
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    descriptions = [i["description"] for i in run.result["line_items"]]
    first, second = [i for i, d in enumerate(descriptions) if d == "Repeated line"]
    for index, page_number in ((first, 3), (second, 14)):
        evidence = run.evidence[f"line_items[{index}].description"]
        assert (evidence["status"], evidence["page"], evidence["item_page"]) == (
            "verified",
            page_number,
            page_number,
        )
        assert [o["page"] for o in evidence["occurrences"]] == [page_number]
    assert run.evidence["invoice_number"]["status"] == "verified"
    assert "item_page" not in run.evidence["invoice_number"]


def test_the_admin_shows_a_runs_segments_and_its_calls_pages(
    admin_client, user, direct_to_simulator, tmp_path
):
    statement(tmp_path / "statement.pdf", pages=12, per_page=1)
    run = run_on(user, tmp_path / "statement.pdf")
    page = admin_client.get(f"/admin/extraction/extractionrun/{run.pk}/change/").content.decode()
    assert "Segments (long document)" in page and "overlap_repeats_dropped" in page
    assert "generate (pages 11-12)" in page and "generate (pages 1-11)" in page


def test_a_schema_of_segmented_arrays_only_makes_no_other_fields_call(
    user, direct_to_simulator, tmp_path
):
    from extraction.services.profiles import extraction_profile_create

    invoice = seeded_profile("invoice").schema
    lines = {**invoice, "properties": {"line_items": invoice["properties"]["line_items"]}}
    lines["required"] = ["line_items"]
    profile = extraction_profile_create(
        slug="lines-only",
        name="Lines only",
        instructions="List the lines.",
        schema=lines,
        default_model="gemini/gemini-2.5-flash",
        segmenting={"arrays": {"line_items": {"pages": 10, "overlap": 1}}},
    )
    truth = statement(tmp_path / "statement.pdf", pages=15, per_page=2)
    run = extraction_run_enqueue(
        document=make_document(user, tmp_path / "statement.pdf"), profile=profile, trigger="api"
    )
    extraction_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert [i["description"] for i in run.result["line_items"]] == truth
    assert [c["kind"] for c in run.segments["calls"]] == ["array", "array"]
    assert run.segments["other_fields_pages"] == "none"


def test_each_segment_retries_and_falls_back_on_its_own(user, direct_to_simulator, tmp_path):
    truth = statement(tmp_path / "statement.pdf", pages=25, per_page=2)
    sim = direct_to_simulator
    sim.fault("error", provider="gemini", operation="generate", status=503, count=1)  # retried
    sim.fault("error", provider="gemini", operation="generate", status=401, count=1, after=2)
    run = run_on(user, tmp_path / "statement.pdf")
    assert run.status == Status.SUCCEEDED, (run.error_code, run.error_message)
    assert [i["description"] for i in run.result["line_items"]] == truth
    models = [c["model"] for c in run.segments["calls"]]
    assert models.count("openai/gpt-4o") == 1  # the call refused by Gemini fell back
    assert models.count("gemini/gemini-2.5-flash") == 3
    outcomes = set(run.attempts.filter(operation="generate").values_list("outcome", flat=True))
    assert {"retry", "fallback", "ok"} <= outcomes
