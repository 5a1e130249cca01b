"""remorai.renderers.JSONRenderer: orjson's speed, DRF's JSON."""

import datetime
import decimal
import uuid

import pytest
from django.db import models
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from remorai.renderers import JSONRenderer


class Colour(models.TextChoices):
    RED = "red", "Red"


UTC = datetime.UTC
PLUS_TWO = datetime.timezone(datetime.timedelta(hours=2))
DATA = ReturnDict(
    {
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "created_at": datetime.datetime(2026, 11, 30, 12, 0, 1, 123456, tzinfo=UTC),
        "offset": datetime.datetime(2026, 11, 30, 12, 0, tzinfo=PLUS_TWO),
        "naive": datetime.datetime(2026, 11, 30, 12, 0),
        "day": datetime.date(2026, 11, 30),
        "at": datetime.time(9, 30, 5, 250000),
        "cost": decimal.Decimal("0.0012345"),
        "label": gettext_lazy("Not found."),
        "colour": Colour.RED,
        "text": "Grüße — \u2028 line \u2029 paragraph \"quoted\" \\ \x07",
        "flags": (True, False, None),
        "numbers": [0, -1, 2**63 - 1, 0.1, 2.0, 1.5e300],
        "nested": ReturnList([{"a": [], "b": {}}], serializer=None),
    },
    serializer=None,
)  # fmt: skip


def drf(data, media_type=None):
    return renderers.JSONRenderer().render(data, media_type, {})


def test_the_same_bytes_as_drf():
    assert JSONRenderer().render(DATA) == drf(DATA)
    assert b"\\u2028" in JSONRenderer().render(DATA)


@pytest.mark.parametrize(
    "data",
    [{"big": 2**64}, {1: "a key that is not a string"}],
    ids=["integer-beyond-64-bits", "non-string-key"],
)
def test_what_orjson_refuses_goes_through_drf(data):
    assert JSONRenderer().render(data) == drf(data)


def test_an_indented_answer_is_drfs():
    media_type = "application/json; indent=4"
    rendered = JSONRenderer().render(DATA, media_type, {})
    assert rendered == drf(DATA, media_type) and b'\n    "id"' in rendered


def test_nothing_renders_nothing():
    assert JSONRenderer().render(None) == b""


def test_the_api_answers_through_it(api):
    response = api.get("/api/profiles/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.content == drf(response.data)
