import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from extraction.evaluation import compare_results, normalise
from tests.factories import DocumentFactory, RunFactory

TRUTH = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pdfs" / "truth"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("4,11", 4.11),
        ("1.234,56", "1,234.56"),
        ("€", "eur"),
        ("  Amazon   Web Services ", "amazon web services"),
        ("2014-08-03", "03.08.2014"),
        ("20140803", "2014-08-03"),
        (319, 319.0),
        ("USD 4.11", "4.11"),
    ],
)
def test_normalise_treats_equal_meanings_alike(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize(
    ("a", "b"), [("4.11", "4.12"), ("2014-08-03", "2014-08-04"), ("EUR", "USD")]
)
def test_normalise_keeps_different_values_apart(a, b):
    assert normalise(a) != normalise(b)


@pytest.fixture
def crafted(user, profile):
    """Runs crafted against three truth invoices (see the expected scores in the test)."""
    if not TRUTH.is_dir():
        pytest.fail(f"ground truth folder missing: {TRUTH}")
    aws = DocumentFactory(
        owner=user, original_name="aws.pdf", content=(TRUTH / "AmazonWebServices.pdf").read_bytes()
    )
    flip = DocumentFactory(
        owner=user, original_name="flip.pdf", content=(TRUTH / "FlipkartInvoice.pdf").read_bytes()
    )
    DocumentFactory(
        owner=user, original_name="cool.pdf", content=(TRUTH / "coolblue1.pdf").read_bytes()
    )
    earlier = timezone.now() - timedelta(days=1)
    # An older run with every field wrong: the latest run is the one scored.
    RunFactory(
        document=aws,
        profile=profile,
        result={"invoice_number": "x", "amount": 1, "issuer": "y"},
        finished_at=earlier,
        started_at=earlier,
    )
    RunFactory(
        document=aws,
        profile=profile,
        result={
            "invoice_number": "42183017",
            "date": "03.08.2014",
            "amount": "4,11",
            "currency": "usd",
            "issuer": "Amazon.com",
            "not_in_truth": "ignored",
        },
    )
    RunFactory(
        document=flip,
        profile=profile,
        result={
            "invoice_number": "#BLR_WFLD20151000982590",
            "date": "2015-10-20",
            "amount": 319,
            "currency": None,
            "issuer": "  flipkart ",
        },
    )
    # Another model's run, scored only with --model.
    RunFactory(
        document=flip,
        profile=profile,
        model="openai/gpt-4o-mini",
        result={
            "invoice_number": "#BLR_WFLD20151000982590",
            "amount": 319,
            "currency": "INR",
            "date": "2015-10-20",
            "issuer": "Flipkart",
        },
        finished_at=earlier,
        started_at=earlier,
    )
    return profile


def _json(*args):
    out = io.StringIO()
    call_command("evaluate", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_evaluate_truth_dir_gives_the_expected_scores(crafted):
    data = _json("--profile", crafted.slug, "--truth", str(TRUTH))
    fields = {f["field"]: f for f in data["fields"]}
    assert set(fields) == {"amount", "currency", "date", "invoice_number", "issuer"}
    assert data["documents"] == 3
    assert data["missing_runs"] == ["coolblue1"]
    assert "AmazonWebServices" not in data["unmatched"] and "coolblue2" in data["unmatched"]

    inv = fields["invoice_number"]
    assert (inv["compared"], inv["tp"], inv["fp"], inv["fn"]) == (3, 2, 0, 1)
    assert inv["exact_match"] == pytest.approx(2 / 3)
    assert inv["f1"] == pytest.approx(0.8)
    amount = fields["amount"]
    assert amount["exact_match"] == pytest.approx(1 / 3)  # "4,11" matches only when normalised
    assert amount["normalised_match"] == pytest.approx(2 / 3)
    currency = fields["currency"]
    assert (currency["tp"], currency["fp"], currency["fn"]) == (1, 0, 2)
    assert currency["f1"] == pytest.approx(0.5)
    issuer = fields["issuer"]
    assert (issuer["tp"], issuer["fp"], issuer["fn"]) == (1, 1, 2)
    assert issuer["precision"] == pytest.approx(0.5)
    assert issuer["f1"] == pytest.approx(0.4)
    overall = data["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (8, 1, 7)
    assert overall["precision"] == pytest.approx(8 / 9)
    assert overall["recall"] == pytest.approx(8 / 15)
    assert overall["f1"] == pytest.approx(2 / 3)
    wrong = {(d["document"], d["field"]) for d in data["disagreements"]}
    assert ("AmazonWebServices", "issuer") in wrong
    assert ("AmazonWebServices", "amount") not in wrong


def test_evaluate_model_option_scores_that_models_runs(crafted):
    data = _json("--profile", crafted.slug, "--truth", str(TRUTH), "--model", "openai/gpt-4o-mini")
    fields = {f["field"]: f for f in data["fields"]}
    assert sorted(data["missing_runs"]) == ["AmazonWebServices", "coolblue1"]
    assert fields["currency"]["tp"] == 1 and fields["issuer"]["tp"] == 1


def test_evaluate_table_csv_and_fail_under(crafted):
    out = io.StringIO()
    call_command("evaluate", "--profile", crafted.slug, "--truth", str(TRUTH), stdout=out)
    table = out.getvalue()
    assert "invoice_number" in table and "0.800" in table and "overall" in table
    assert "Disagreements" in table

    out = io.StringIO()
    call_command("evaluate", "--profile", crafted.slug, "--truth", str(TRUTH), "--csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[-1]["field"] == "overall"
    assert float(rows[-1]["f1"]) == pytest.approx(2 / 3)

    with pytest.raises(CommandError, match="below --fail-under"):
        call_command(
            "evaluate",
            "--profile",
            crafted.slug,
            "--truth",
            str(TRUTH),
            "--fail-under",
            "0.9",
            stdout=io.StringIO(),
        )
    call_command(
        "evaluate",
        "--profile",
        crafted.slug,
        "--truth",
        str(TRUTH),
        "--fail-under",
        "0.6",
        stdout=io.StringIO(),
    )


def test_evaluate_truth_reviewed_uses_reviews_as_ground_truth(user, profile, staff):
    doc = DocumentFactory(owner=user)
    run = RunFactory(document=doc, profile=profile, result={"amount": 10, "currency": "EUR"})
    run.reviewed_result = {"amount": 12, "currency": "EUR"}
    run.reviewer = staff
    run.reviewed_at = timezone.now()
    run.save()
    data = _json("--profile", profile.slug, "--truth", "reviewed")
    fields = {f["field"]: f for f in data["fields"]}
    assert fields["currency"]["tp"] == 1
    assert (fields["amount"]["tp"], fields["amount"]["fp"], fields["amount"]["fn"]) == (0, 1, 1)


def test_evaluate_baseline_and_candidate_models(user, profile):
    doc = DocumentFactory(owner=user)
    RunFactory(
        document=doc, profile=profile, model="a/one", result={"amount": 1, "currency": "EUR"}
    )
    RunFactory(
        document=doc, profile=profile, model="b/two", result={"amount": "1.00", "currency": "USD"}
    )
    data = _json(
        "--profile", profile.slug, "--baseline-model", "a/one", "--candidate-model", "b/two"
    )
    fields = {f["field"]: f for f in data["fields"]}
    assert fields["amount"]["normalised_match"] == 1.0 and fields["amount"]["exact_match"] == 0.0
    assert fields["currency"]["normalised_match"] == 0.0


def test_evaluate_baseline_transport_inline(user, profile):
    doc = DocumentFactory(owner=user)
    RunFactory(document=doc, profile=profile, transport="inline", result={"amount": 1})
    RunFactory(document=doc, profile=profile, transport="file", result={"amount": 1})
    data = _json("--profile", profile.slug, "--baseline-transport", "inline")
    assert data["overall"]["f1"] == 1.0 and data["documents"] == 1


def test_evaluate_rejects_unknown_profile_and_missing_mode(profile):
    with pytest.raises(CommandError, match="unknown profile"):
        call_command("evaluate", "--profile", "nope", "--truth", "reviewed")
    with pytest.raises(CommandError, match="give --truth"):
        call_command("evaluate", "--profile", profile.slug)


def test_compare_results_marks_differences():
    rows = compare_results({"a": "4,11", "b": "x"}, {"a": 4.11, "b": "y", "c": 1})
    by = {r["field"]: r for r in rows}
    assert by["a"]["normalised"] and not by["a"]["exact"]
    assert not by["b"]["normalised"]
    assert by["c"]["left"] is None


def test_evaluate_labels_simulated_runs(user, profile):
    doc = DocumentFactory(owner=user)
    RunFactory(document=doc, profile=profile, model="a/one", result={"amount": 1})
    RunFactory(document=doc, profile=profile, model="b/two", result={"amount": 1}, simulated=True)
    out = io.StringIO()
    call_command(
        "evaluate", "--profile", profile.slug, "--baseline-model", "a/one",
        "--candidate-model", "b/two", stdout=out,
    )  # fmt: skip
    assert "SIMULATED: 1 of the scored runs" in out.getvalue()
    alone = DocumentFactory(owner=user, original_name="alone.pdf")  # no candidate run
    RunFactory(document=alone, profile=profile, model="a/one", result={"amount": 2})
    out = io.StringIO()
    call_command(
        "evaluate", "--profile", profile.slug, "--baseline-model", "a/one",
        "--candidate-model", "b/two", stdout=out,
    )  # fmt: skip
    assert f"A baseline run but no succeeded candidate run: alone.pdf ({alone.pk})" in (
        out.getvalue()
    )
    assert "Not matched to a document" not in out.getvalue()  # that is for truth files
    assert _json("--profile", profile.slug, "--baseline-model", "a/one",
                 "--candidate-model", "b/two")["simulated_runs"] == 1  # fmt: skip


def test_evaluate_reports_how_well_evidence_statuses_predict_correctness(user, profile):
    """Of values marked verified, the share equal to the truth; of wrong values, the share
    not marked verified (a hallucination marked verified would lower both)."""
    from extraction.evaluation import Pair, score_pairs

    evidence = {
        "invoice_number": {"status": "verified"},  # right, verified
        "total": {"status": "verified"},  # wrong yet verified: the document prints 9.99 too
        "issue_date": {"status": "not_found"},  # wrong and flagged
        "currency": {"status": "null"},  # not given: neither verified nor a wrong value
        "line_items[0].amount": {"status": "verified"},
        "line_items[1].amount": {"status": "not_found"},  # the array is not all verified
    }
    truth = {
        "invoice_number": "A-1",
        "total": 10.0,
        "issue_date": "2024-01-02",
        "currency": "EUR",
        "line_items": [{"amount": 1}, {"amount": 2}],
    }
    predicted = {
        "invoice_number": "a-1",
        "total": 9.99,
        "issue_date": "2024-01-03",
        "currency": None,
        "line_items": [{"amount": 1}, {"amount": 3}],
    }
    result = score_pairs(
        [Pair("doc", truth, predicted, evidence=evidence), Pair("no evidence", truth, predicted)],
        fields=None,
        mode="truth-dir",
    ).evidence.as_dict()
    assert result == {
        "verified": 2,
        "verified_correct": 1,
        "wrong": 3,  # total, issue_date, line_items
        "wrong_not_verified": 2,
        "verified_precision": 0.5,
        "wrong_caught": round(2 / 3, 4),
    }


def test_evaluate_prints_the_evidence_line(user, profile, staff):
    run = RunFactory(
        document=DocumentFactory(owner=user),
        profile=profile,
        result={"invoice_number": "993548900", "amount": 1.0},
        evidence={"invoice_number": {"status": "verified"}, "amount": {"status": "not_found"}},
    )
    run.reviewed_result = {"invoice_number": "993548900", "amount": 717.97}
    run.reviewer = staff
    run.reviewed_at = timezone.now()
    run.save()
    out = io.StringIO()
    call_command("evaluate", "--profile", profile.slug, "--truth", "reviewed", stdout=out)
    assert (
        "Evidence: of 1 values marked verified, 1 equal the truth (100 %); of 1 wrong values, "
        "1 were not marked verified (100 %)." in out.getvalue()
    )
    assert _json("--profile", profile.slug, "--truth", "reviewed")["evidence"]["wrong_caught"] == 1
