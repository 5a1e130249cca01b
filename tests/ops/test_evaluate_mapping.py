"""evaluate reports truth keys no schema field takes, maps them with --map, and counts
identifiers equal modulo whitespace as a normalised match."""

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from extraction.normalise import equivalent
from tests.factories import DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db

TRUTH = Path(__file__).resolve().parents[1] / "fixtures" / "pdfs" / "truth"


@pytest.fixture
def truth_dir(tmp_path, user, profile):
    """One invoice with a truth file named differently from the schema (SIMPLE_SCHEMA)."""
    pdf = tmp_path / "aws.pdf"
    shutil.copyfile(TRUTH / "AmazonWebServices.pdf", pdf)
    truth = {
        "invoice_no": "INV 2087 11",
        "total": "4.11",
        "issuer": "Amazon.com",
        "lines": [{"description": "EC2"}],
        "_note": "comments are not truth keys",
    }
    (tmp_path / "aws.json").write_text(json.dumps(truth))
    document = DocumentFactory(owner=user, original_name="aws.pdf", content=pdf.read_bytes())
    RunFactory(
        document=document,
        profile=profile,
        result={"invoice_number": "INV208711", "amount": 4.11, "issuer": "Amazon.com"},
    )
    return tmp_path


def evaluate(profile, *args):
    out = io.StringIO()
    call_command("evaluate", "--profile", profile.slug, *args, stdout=out)
    return out.getvalue()


def test_truth_keys_no_field_takes_are_reported_not_silently_dropped(profile, truth_dir):
    data = json.loads(evaluate(profile, "--truth", str(truth_dir), "--json"))
    assert data["ignored_truth_keys"] == {"invoice_no": 1, "lines": 1, "total": 1}
    assert [f["field"] for f in data["fields"]] == ["issuer"]

    table = evaluate(profile, "--truth", str(truth_dir))
    assert "invoice_no (1), lines (1), total (1)" in table
    assert "--map TRUTH_KEY=FIELD" in table


def test_map_scores_differently_named_truth_keys_as_schema_fields(profile, truth_dir):
    data = json.loads(
        evaluate(
            profile,
            "--truth",
            str(truth_dir),
            "--map",
            "invoice_no=invoice_number",
            "--map",
            "total=amount",
            "--json",
        )
    )
    fields = {f["field"]: f for f in data["fields"]}
    assert set(fields) == {"amount", "invoice_number", "issuer"}
    assert data["ignored_truth_keys"] == {"lines": 1}
    # "INV 2087 11" and "INV208711": one identifier, spaced differently
    assert fields["invoice_number"]["exact_match"] == 0
    assert fields["invoice_number"]["normalised_match"] == 1
    assert fields["amount"]["normalised_match"] == 1
    assert data["overall"]["f1"] == 1


def test_map_refuses_a_target_the_schema_does_not_have(profile, truth_dir):
    with pytest.raises(CommandError, match="not a field of profile ops-invoice: totl"):
        evaluate(profile, "--truth", str(truth_dir), "--map", "total=totl")
    with pytest.raises(CommandError, match="use TRUTH_KEY=FIELD"):
        evaluate(profile, "--truth", str(truth_dir), "--map", "total")
    with pytest.raises(CommandError, match="goes with --truth DIR"):
        evaluate(profile, "--truth", "reviewed", "--map", "a=amount")


@pytest.mark.parametrize(
    ("a", "b"),
    [("IBZY 2087", "IBZY2087"), ("DE 123 456 789", "DE123456789"), ("A-12 / 7", "a-12/7")],
)
def test_identifiers_equal_modulo_whitespace_are_equivalent(a, b):
    assert equivalent(a, b)


@pytest.mark.parametrize(
    ("a", "b"), [("John Smith", "JohnSmith"), ("IBZY 2087", "IBZY 2088"), ("12 34", "1 2 3 5")]
)
def test_other_values_do_not_collapse_by_losing_their_spaces(a, b):
    assert not equivalent(a, b)
