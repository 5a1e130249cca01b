"""Request bodies must keep arriving: a client trickling an upload cannot hold a web thread.

WSGI middleware (wrapped around Django in remorai/wsgi.py). After REQUEST_BODY_GRACE_SECONDS a
body must have averaged REQUEST_BODY_MIN_RATE bytes per second since the request began, and no
single wait for data may exceed REQUEST_BODY_IDLE_SECONDS (a socket timeout, under gunicorn).
Otherwise reading stops with RequestBodyTooSlow: the API answers 400 `parse_error` saying so
(Django pages a 400), and the connection is closed instead of kept alive (gunicorn would else
read the rest of the body to reach the next request).

The body is read in steps sized to the client's pace (about a quarter second of data, 1 KiB to
64 KiB, never more than the client is ahead of the minimum), and the pace is checked between
steps. A step blocks until all of it has come, however slowly it comes (the socket timeout only
bounds each wait for *some* data), so under gunicorn every step also has a deadline: the moment
after which the client is behind the minimum even if the whole step has arrived. Past it, one
thread per process (the watchdog) shuts the socket's read side down; the read returns at once
and the 400 is still written. A client at 100 bytes/s is cut about a second after its grace, a
fast upload pays one clock read and one dict entry per 64 KiB.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

from django.core.exceptions import BadRequest
from django.http.multipartparser import MultiPartParserError

MIN_STEP = 1024  # gunicorn's body reader waits for at least 1 KiB per call anyway
MAX_STEP = 64 * 1024


class RequestBodyTooSlow(MultiPartParserError, BadRequest, ValueError):
    """Django's multipart parser, DRF's parsers and Django's handler all turn it into a 400."""


class Watchdog:
    """Shuts the read side of a socket whose read has outlived its deadline."""

    period = 0.1

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._reads: dict[int, tuple[float, socket.socket, PacedInput]] = {}
        self._pid: int | None = None

    def watch(self, paced: PacedInput, sock: socket.socket, deadline: float) -> None:
        with self._lock:
            if self._pid != os.getpid():  # not started yet, or forked (a gunicorn worker)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="body-pace-watchdog", daemon=True).start()
            self._reads[id(paced)] = (deadline, sock, paced)

    def unwatch(self, paced: PacedInput) -> None:
        with self._lock:
            self._reads.pop(id(paced), None)

    def expire(self) -> None:
        now = self._clock()
        with self._lock:
            late = [key for key, (deadline, _, _) in self._reads.items() if deadline < now]
            expired = [self._reads.pop(key) for key in late]
        for _, sock, paced in expired:
            paced.timed_out = True
            with contextlib.suppress(OSError):  # the client has gone already
                sock.shutdown(socket.SHUT_RD)  # the blocked recv() returns b"" at once

    def _run(self) -> None:
        while True:
            time.sleep(self.period)
            self.expire()


WATCHDOG = Watchdog()


class PacedInput:
    """A wsgi.input that refuses to wait on a client sending too slowly."""

    def __init__(
        self,
        raw,
        *,
        length: int,
        min_rate: float,
        grace: float,
        sock: socket.socket | None = None,
        watchdog: Watchdog = WATCHDOG,
        clock=time.monotonic,
    ):
        self._raw, self._min_rate, self._grace, self._clock = raw, min_rate, grace, clock
        self._sock, self._watchdog = sock, watchdog
        self._length = length
        self._started = clock()
        self.received = 0
        self.timed_out = False

    def _too_slow(self) -> RequestBodyTooSlow:
        self.timed_out = True
        elapsed = self._clock() - self._started
        return RequestBodyTooSlow(
            f"The request body arrived too slowly ({self.received} bytes in {elapsed:.0f} s; "
            f"at least {self._min_rate:.0f} bytes/s are needed after {self._grace:.0f} s)."
        )

    def _check(self) -> None:
        elapsed = self._clock() - self._started
        if elapsed > self._grace and self.received < self._min_rate * (elapsed - self._grace):
            raise self._too_slow()

    def _step(self) -> int:
        elapsed = max(self._clock() - self._started, 1e-3)
        pace = self.received / elapsed / 4
        ahead = self.received - self._min_rate * (elapsed - self._grace)
        return int(min(MAX_STEP, max(MIN_STEP, min(pace, ahead))))

    def _read_raw(self, read, size: int) -> bytes:
        if self._sock is not None:
            deadline = self._started + self._grace + (self.received + size) / self._min_rate
            self._watchdog.watch(self, self._sock, deadline)
        try:
            data = read(size)
        except TimeoutError as exc:
            self.timed_out = True
            raise RequestBodyTooSlow("The request body stopped arriving.") from exc
        except Exception:
            if self.timed_out:  # the watchdog ended the read
                raise self._too_slow() from None
            raise
        finally:
            if self._sock is not None:
                self._watchdog.unwatch(self)
        if self.timed_out:
            raise self._too_slow()
        self.received += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        parts = []
        remaining = max(0, self._length - self.received)
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        got = 0
        while got < wanted:
            self._check()
            data = self._read_raw(self._raw.read, min(self._step(), wanted - got))
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        self._check()
        remaining = max(0, self._length - self.received)
        limit = remaining if size is None or size < 0 else min(size, remaining)
        if limit == 0:
            return b""
        # At most one step: a longer line comes back in pieces, as readline(size) allows.
        return self._read_raw(self._raw.readline, min(limit, self._step()))

    def __iter__(self):
        while line := self.readline():
            yield line


class BodyPaceMiddleware:
    def __init__(self, app, *, min_rate: float, grace: float, idle: float):
        self.app, self.min_rate, self.grace, self.idle = app, min_rate, grace, idle

    def __call__(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0 or self.min_rate <= 0:
            return self.app(environ, start_response)
        sock = environ.get("gunicorn.socket")
        if sock is not None and self.idle > 0:
            # gunicorn's gthread worker makes the socket blocking again for the next request.
            sock.settimeout(self.idle)
        paced = PacedInput(
            environ["wsgi.input"],
            length=length,
            min_rate=self.min_rate,
            grace=self.grace,
            sock=sock,
        )
        environ["wsgi.input"] = paced

        def start(status, headers, exc_info=None):
            if paced.timed_out:
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
