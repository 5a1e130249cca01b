"""Every command's table with zero rows (a fresh install's usual case), as a user runs it."""

import pytest
from django.core.management import CommandError, call_command

from extraction.services import cleanup
from remorai.tables import format_table
from tests.factories import DocumentFactory, RemoteCopyFactory
from tests.fixtures.gateways import FakeGateway


def test_format_table_with_zero_rows_is_the_header_and_its_rule():
    assert format_table(("a", "bb"), []) == "a  bb\n-----"
    assert format_table(("a", "bb"), [], rule=False) == "a  bb"


def test_format_table_widens_columns_to_their_widest_cell():
    assert format_table(("a", "b"), [("xyz", "1")]).splitlines() == ["a    b", "------", "xyz  1"]


@pytest.mark.parametrize(
    "args",
    [(), ("--dry-run",), ("--expired",), ("--expired", "--dry-run"), ("--older-than", "7d")],
)
def test_cleanup_files_with_nothing_to_delete_prints_an_empty_table(cli, args):
    result = cli.run("cleanup_files", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "route",
        "provider",
        "remote",
        "id",
        "bytes",
        "reason",
        "outcome",
        "detail",
    ]
    assert set(lines[1]) == {"-"}
    assert "0 files, 0 bytes" in lines[2]


def test_evaluate_with_no_documents_prints_an_empty_table(cli, tmp_path):
    truth = tmp_path / "truth"
    truth.mkdir()
    result = cli.run("evaluate", "--profile", "invoice", "--truth", str(truth))
    assert result.returncode == 0, result.stderr
    assert "0 documents" in result.stdout
    assert "overall" in result.stdout


@pytest.mark.django_db  # llm_check also lists profiles using retired models
def test_llm_check_with_no_routes_prints_its_header_and_exits_non_zero(monkeypatch):
    from io import StringIO

    monkeypatch.setattr("llm.management.commands.llm_check.route_statuses", lambda models, live: [])
    out = StringIO()
    with pytest.raises(CommandError, match="No configured route can serve"):
        call_command("llm_check", stdout=out)
    assert out.getvalue().splitlines()[0].split() == [
        "MODEL",
        "ROUTE",
        "KEY",
        "REACHABLE",
        "DETAIL",
    ]


@pytest.mark.django_db
def test_cleanup_files_exits_non_zero_when_a_deletion_failed(user, gateways, capsys):
    gateways.use(FakeGateway(delete_script=[RuntimeError("provider said no")]))
    doc = DocumentFactory(owner=user)
    RemoteCopyFactory(document=doc)
    doc.delete()
    with pytest.raises(CommandError, match="cleanup hit 1 error "):
        call_command("cleanup_files")
    assert "provider said no" in capsys.readouterr().out


@pytest.mark.django_db
def test_cleanup_files_orphaned_exits_non_zero_when_a_listing_failed(gateways, monkeypatch, capsys):
    gateways.use(FakeGateway(list_script=[ConnectionError("provider unreachable")]))
    monkeypatch.setattr(cleanup, "_provider_pairs", lambda providers: [("direct", "openai")])
    with pytest.raises(CommandError, match="cleanup hit 1 error "):
        call_command("cleanup_files", "--orphaned", "--json")
    assert "provider unreachable" in capsys.readouterr().out
