import pytest

from llm.errors import BadOutput
from llm.types import Generation
from llm.validation import repair_followups, validate_generation
from tests.fixtures.gateways import SCHEMA


def gen(text, **kwargs):
    return Generation(text=text, model="m", **kwargs)


def test_valid_json_is_returned_parsed():
    assert validate_generation(gen('{"invoice_number": "A", "total": 3}'), SCHEMA) == {
        "invoice_number": "A",
        "total": 3,
    }


def test_code_fences_are_tolerated():
    text = '```json\n{"invoice_number": null, "total": 1}\n```'
    assert validate_generation(gen(text), SCHEMA)["total"] == 1


def test_parsed_data_without_text_is_validated():
    data = {"invoice_number": None, "total": 2}
    assert validate_generation(gen("", data=data), SCHEMA) == data


def test_data_handed_over_parsed_is_not_parsed_again_from_its_text():
    # Anthropic's tool_use input arrives parsed; its text is only kept for the record.
    data = {"invoice_number": "T", "total": 4}
    assert validate_generation(gen('{"kept": "for the record"', data=data), SCHEMA) == data


@pytest.mark.parametrize(
    ("text", "kwargs", "code", "fragment"),
    [
        ('{"invoice_number": "A", "total": ', {}, "invalid_json", "invalid JSON"),
        ("Sure! Here it is", {}, "invalid_json", "invalid JSON"),
        ('{"invoice_number": "A"}', {}, "schema_violation", "'total' is a required property"),
        ('{"invoice_number": 5, "total": 1}', {}, "schema_violation", "at invoice_number"),
        ('{"invoice_number": "A", "total": 1, "x": 1}', {}, "schema_violation", "Additional"),
        (
            '{"invoice_number": "A", "total": 1}',
            {"finish_reason": "length"},
            "output_truncated",
            "",
        ),  # noqa: E501
        ('{"invoice_number": "A"', {"finish_reason": "MAX_TOKENS"}, "output_truncated", ""),
    ],
)
def test_unusable_answers_raise_bad_output_keeping_the_raw_text(text, kwargs, code, fragment):
    with pytest.raises(BadOutput) as caught:
        validate_generation(gen(text, **kwargs), SCHEMA)
    error = caught.value
    assert error.code == code and isinstance(error, BadOutput)
    assert error.raw_text == text
    assert any(fragment in e for e in error.errors)


def test_repair_turn_sends_the_previous_answer_and_the_errors_back():
    with pytest.raises(BadOutput) as caught:
        validate_generation(gen('{"invoice_number": "A"}'), SCHEMA)
    assistant, user = repair_followups(caught.value)
    assert assistant == {"role": "assistant", "content": '{"invoice_number": "A"}'}
    assert user["role"] == "user" and "'total' is a required property" in user["content"]
