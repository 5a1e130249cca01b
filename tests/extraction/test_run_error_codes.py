"""A run's error.code is always a documented code (RunErrorCode, README's table); the provider's
own code is kept apart in error.provider_code (#12.3)."""

import re
from pathlib import Path

from extraction.errors import RunErrorCode
from llm import errors as llm_errors

README = Path(__file__).resolve().parents[2] / "README.md"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_llm_error_class_has_a_documented_code():
    for cls in [llm_errors.LLMError, *_subclasses(llm_errors.LLMError)]:
        assert cls.code in RunErrorCode.values, cls


def test_a_provider_code_given_to_an_error_never_replaces_its_code():
    exc = llm_errors.RequestRejected("no", provider_code="invalid_request_error")
    assert (exc.code, exc.provider_code) == ("request_rejected", "invalid_request_error")
    assert exc.as_dict()["code"] == "request_rejected"


def test_the_readme_lists_exactly_the_documented_codes():
    text = README.read_text()
    section = text[text.index("### Run error codes") :]
    section = section[: section.index("\n\n", section.index("| code | when |"))]
    listed = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert sorted(listed) == sorted(RunErrorCode.values)


def test_an_undocumented_code_is_recorded_as_internal_error(caplog):
    assert RunErrorCode.of("invalid_request_error") == "internal_error"
    assert "undocumented run error code" in caplog.text
    assert RunErrorCode.of("request_rejected") == "request_rejected"


def test_the_run_schema_declares_the_codes_as_an_enum():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert sorted(schemas["RunErrorCodeEnum"]["enum"]) == sorted(RunErrorCode.values)
    error = schemas["RunError"]["properties"]
    assert error["code"]["allOf"] == [{"$ref": "#/components/schemas/RunErrorCodeEnum"}]
    assert "provider_code" in error and "provider_code" in schemas["Attempt"]["properties"]
