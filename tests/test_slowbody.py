"""The body pace check (remorai/slowbody.py); real gunicorn with ten slow clients is in
tests/reliability/test_slow_clients.py."""

import contextlib
import io
import socket
import threading
import time

import pytest

from remorai.slowbody import BodyPaceMiddleware, PacedInput, RequestBodyTooSlow, Watchdog


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


def trickle(sock: socket.socket, burst: int, per_tick: int, stop: threading.Event) -> None:
    """A client that sends `burst` bytes at once, then `per_tick` bytes every 50 ms (for at most
    10 s), then hangs up."""
    with contextlib.suppress(OSError):
        sock.sendall(bytes(burst))
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            sock.sendall(bytes(per_tick))
            time.sleep(0.05)
    sock.close()


@pytest.mark.parametrize(
    "burst, per_tick",
    [(1500, 10), (0, 1)],  # a fast first kilobyte then 200 bytes/s; 20 bytes/s from the start
    ids=["burst-then-trickle", "trickle"],
)
def test_a_read_that_outlives_the_pace_is_ended_by_the_watchdog(burst, per_tick):
    """A step blocks until all of it has come; the watchdog ends it once the client is behind
    the minimum rate. Before it, a fast first kilobyte grew the step to 64 KiB, which a client
    then trickled for as long as it liked (the socket timeout only bounds each wait)."""
    server, client = socket.socketpair()
    stop = threading.Event()
    sender = threading.Thread(target=trickle, args=(client, burst, per_tick, stop), daemon=True)
    paced = PacedInput(server.makefile("rb"), length=100_000, min_rate=2000, grace=0.5, sock=server)
    started = time.monotonic()
    sender.start()
    try:
        with pytest.raises(RequestBodyTooSlow, match="too slowly"):
            paced.read(100_000)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        sender.join(5)
        server.close()
    assert paced.timed_out
    # The last step's deadline: grace + (received + one step of at most ~3.5 KiB) / min_rate.
    assert elapsed < 4, elapsed


def test_the_watchdog_ends_only_reads_past_their_deadline():
    now = [100.0]
    watchdog = Watchdog(clock=lambda: now[0])
    on_time, late = socket.socketpair(), socket.socketpair()
    readers = [PacedInput(io.BytesIO(), length=1, min_rate=1, grace=0) for _ in range(2)]
    try:
        watchdog.watch(readers[0], on_time[0], deadline=101.0)
        watchdog.watch(readers[1], late[0], deadline=99.0)
        watchdog.expire()
        assert [r.timed_out for r in readers] == [False, True]
        assert late[0].recv(10) == b""  # its read side is shut: a blocked recv returns at once
        on_time[1].sendall(b"x")
        assert on_time[0].recv(10) == b"x"
        watchdog.unwatch(readers[0])
        now[0] = 200.0
        watchdog.expire()
        assert readers[0].timed_out is False  # a finished read is no longer watched
    finally:
        for pair in (on_time, late):
            for end in pair:
                end.close()


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
