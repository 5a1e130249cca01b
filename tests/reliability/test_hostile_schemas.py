"""Hostile profile schemas (issue #17 §1): a ReDoS pattern, a remote `$ref` to a silent socket
(before: the worker fetched it with no timeout and hung > 45 s), a recursive `$ref` (before:
RecursionError in validation). Refused at save; and a profile stored before the checks (written
straight to the table) never makes validation fetch, recurse or backtrack."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from extraction.models import ExtractionProfile
from extraction.services.profiles import InvalidProfileSchema, extraction_profile_create
from llm.validation import schema_errors

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

REDOS = "^([A-Z0-9]+-?)+$"


@pytest.fixture
def silent_socket():
    """A listener that accepts and never answers; counts connections."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/schema.json", accepted
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    listener.close()


def schema_with(**field):
    return {"type": "object", "properties": {"v": field}}


def create(schema):
    return extraction_profile_create(
        slug="hostile",
        name="hostile",
        instructions="x",
        schema=schema,
        default_model="openai/gpt-4o",
    )


def test_remote_ref_is_refused_at_save_and_never_fetched(silent_socket):
    url, accepted = silent_socket
    with pytest.raises(InvalidProfileSchema, match="not local"):
        create(schema_with(**{"$ref": url}))
    assert not ExtractionProfile.objects.filter(slug="hostile").exists()
    # A profile stored before the check: validating an answer fetches nothing.
    legacy = ExtractionProfile.objects.create(
        slug="legacy",
        name="legacy",
        instructions="x",
        schema=schema_with(**{"$ref": url}),
        default_model="x",
        version=1,
    )
    started = time.monotonic()
    errors = schema_errors({"v": 1}, legacy.schema)
    elapsed = time.monotonic() - started
    print(f"\nSCHEMA remote $ref to a silent socket: {elapsed * 1000:.1f} ms, {errors}")
    assert elapsed < 1 and errors
    time.sleep(0.3)
    assert accepted == []


def test_recursive_ref_is_refused_at_save_and_cannot_crash_validation():
    with pytest.raises(InvalidProfileSchema, match="recursive"):
        create({"$ref": "#", "type": "object"})
    errors = schema_errors({"v": 1}, {"$ref": "#", "type": "object"})
    assert errors and "cannot be applied safely" in errors[0]


def test_redos_pattern_costs_microseconds():
    profile = create(schema_with(type="string", pattern=REDOS))  # RE2 takes it: accepted
    hostile = "A" * 30 + "!"
    started = time.monotonic()
    for _ in range(100):
        assert schema_errors({"v": hostile}, profile.schema)
    elapsed = time.monotonic() - started
    print(f"\nSCHEMA ReDoS pattern, 100 validations of a 30-char value: {elapsed * 1000:.1f} ms")
    assert elapsed < 1  # Python's re: seconds to minutes for ONE


@pytest.mark.parametrize("pattern", [r"^(a+)+\1$", r"^(?=(a+))\1b$"])
def test_patterns_re2_cannot_run_are_refused_at_save(pattern):
    with pytest.raises(InvalidProfileSchema, match="not supported"):
        create(schema_with(type="string", pattern=pattern))
