"""extract(answer=...): an answer made elsewhere (a provider batch item) stands for the first
generation on its route — validated, repaired through a normal call, priced as given."""

from decimal import Decimal
from pathlib import Path

import pytest

from llm import service
from llm.errors import BadOutput
from llm.service import GivenAnswer
from tests.fixtures.gateways import GOOD, SCHEMA, answer
from tests.llm.fakes import MemoryFileCache, llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")
PDF = Path(__file__)


def extract(given, files=None):
    return service.extract(
        path=PDF,
        filename="invoice.pdf",
        page_count=2,
        size_bytes=1000,
        instructions="Extract the invoice.",
        schema=SCHEMA,
        model="openai/gpt-4o",
        files=files or MemoryFileCache(),
        answer=given,
    )


def batch_answer(data=GOOD) -> GivenAnswer:
    priced = answer(data, cost_usd=Decimal("0.001"), cost_source="catalog")
    return GivenAnswer(route="direct", generation=priced)


def test_a_valid_given_answer_calls_no_provider(gateways):
    files = MemoryFileCache()
    outcome = extract(batch_answer(), files=files)
    assert outcome.data == GOOD
    assert outcome.route == "direct"  # its own route first, ahead of the proxy
    assert [(a.route, a.operation, a.outcome) for a in outcome.attempts] == [
        ("direct", "generate", "ok")
    ]
    assert outcome.attempts[0].cost_usd == Decimal("0.001")  # the batch price, as given
    assert outcome.attempts[0].cost_source == "catalog"
    assert files.uploads == 0
    assert all(not g.requests for g in gateways.made.values())


def test_an_invalid_given_answer_gets_the_repair_turn_as_a_normal_call(gateways):
    direct = gateways.script("direct", "openai", answer())
    files = MemoryFileCache()
    outcome = extract(batch_answer({"total": "not a number"}), files=files)
    assert outcome.repaired and outcome.data == GOOD
    assert [(a.operation, a.outcome) for a in outcome.attempts] == [
        ("generate", "invalid_output"),
        ("upload", "ok"),
        ("repair", "ok"),
    ]
    assert len(direct.requests) == 1 and direct.requests[0].followups
    assert files.uploads == 1


def test_a_given_answer_invalid_twice_fails_like_a_normal_run(gateways):
    gateways.script("direct", "openai", answer({"total": "still not"}))
    with pytest.raises(BadOutput):
        extract(batch_answer({"total": "no"}))
