"""Deeply nested JSON bodies are a 400 JSON error, not a 500 RecursionError (issue #17 §1)."""

import pytest

from remorai.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def nested(levels: int) -> str:
    return '{"profile": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [100_000, 5_000, MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_a_400_parse_error(api, user, levels):
    document = DocumentFactory(owner=user)
    response = api.generic(
        "POST",
        f"/api/documents/{document.id}/extractions/",
        nested(levels),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "parse_error"
    assert "nested" in response.json()["detail"]


def test_ordinary_nesting_is_parsed(api, user):
    document = DocumentFactory(owner=user)
    response = api.post(
        f"/api/documents/{document.id}/extractions/", {"profile": "no-such"}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_profile"


def test_depth_is_measured_without_recursion():
    deep: list = []
    for _ in range(200_000):
        deep = [deep]
    assert json_depth_exceeds(deep, 64)
    assert not json_depth_exceeds({"a": [{"b": 1}]}, 3)
    assert json_depth_exceeds({"a": [{"b": []}]}, 3)
