"""The body pace check (remorai/slowbody.py); real gunicorn with ten slow clients is in
tests/reliability/test_slow_clients.py."""

import contextlib
import io

import pytest

from remorai.slowbody import BodyPaceMiddleware, PacedInput, RequestBodyTooSlow


class Clock:
    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_fast_body_is_read_whole_in_large_steps():
    data = bytes(range(256)) * 4096  # 1 MiB
    raw = io.BytesIO(data)
    calls = []
    original = raw.read
    raw.read = lambda size: calls.append(size) or original(size)
    paced = PacedInput(raw, length=len(data), min_rate=1024, grace=10, clock=Clock(0.001))
    assert paced.read(-1) == data
    assert max(calls) == 64 * 1024


def test_reading_stops_at_the_declared_length():
    paced = PacedInput(io.BytesIO(b"abcdefgh"), length=5, min_rate=1024, grace=10)
    assert paced.read(100) == b"abcde"
    assert paced.read(100) == b""
    assert paced.readline() == b""


def test_a_body_below_the_minimum_rate_is_cut_after_the_grace():
    clock = Clock(1.0)  # every step takes a second: 1 KiB/s at the smallest step
    paced = PacedInput(
        io.BytesIO(bytes(100_000)), length=100_000, min_rate=4096, grace=5, clock=clock
    )
    with pytest.raises(RequestBodyTooSlow, match="too slowly"):
        paced.read(100_000)
    assert paced.timed_out
    assert 5 < clock.now < 12


def test_a_stalled_socket_is_a_slow_body():
    class Stalled:
        def read(self, size):
            raise TimeoutError("timed out")

    paced = PacedInput(Stalled(), length=10, min_rate=1, grace=10)
    with pytest.raises(RequestBodyTooSlow, match="stopped arriving"):
        paced.read(10)


def test_the_middleware_closes_the_connection_after_a_slow_body():
    def app(environ, start_response):
        with contextlib.suppress(RequestBodyTooSlow):
            environ["wsgi.input"].read(10)
        start_response("400 Bad Request", [("Connection", "keep-alive")])
        return [b""]

    class Stalled:
        def read(self, size):
            raise TimeoutError

    seen = {}
    middleware = BodyPaceMiddleware(app, min_rate=1, grace=1, idle=1)
    environ = {"CONTENT_LENGTH": "10", "wsgi.input": Stalled()}
    middleware(environ, lambda status, headers, exc_info=None: seen.update(headers=headers))
    assert seen["headers"] == [("Connection", "close")]


def test_requests_without_a_body_pass_untouched():
    environ = {"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO()}
    middleware = BodyPaceMiddleware(lambda e, s: [e["wsgi.input"]], min_rate=1, grace=1, idle=1)
    assert middleware(environ, None) == [environ["wsgi.input"]]
