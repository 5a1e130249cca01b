"""Request bodies must keep arriving: a client trickling an upload cannot hold a web thread.

WSGI middleware (wrapped around Django in remorai/wsgi.py). After REQUEST_BODY_GRACE_SECONDS a
body must have averaged REQUEST_BODY_MIN_RATE bytes per second since the request began, and no
single wait for data may exceed REQUEST_BODY_IDLE_SECONDS (a socket timeout, under gunicorn).
Otherwise reading stops with RequestBodyTooSlow: the API answers 400 `parse_error` saying so
(Django pages a 400), and the connection is closed instead of kept alive (gunicorn would else
read the rest of the body to reach the next request).

The body is read in steps sized to the client's pace (about a quarter second of data, 1 KiB to
64 KiB), and the pace is checked between steps, so a client at 100 bytes/s is cut about ten
seconds after its grace, and a fast upload pays one clock read per 64 KiB.
"""

from __future__ import annotations

import time

from django.core.exceptions import BadRequest
from django.http.multipartparser import MultiPartParserError

MIN_STEP = 1024  # gunicorn's body reader waits for at least 1 KiB per call anyway
MAX_STEP = 64 * 1024


class RequestBodyTooSlow(MultiPartParserError, BadRequest, ValueError):
    """Django's multipart parser, DRF's parsers and Django's handler all turn it into a 400."""


class PacedInput:
    """A wsgi.input that refuses to wait on a client sending too slowly."""

    def __init__(self, raw, *, length: int, min_rate: float, grace: float, clock=time.monotonic):
        self._raw, self._min_rate, self._grace, self._clock = raw, min_rate, grace, clock
        self._length = length
        self._started = clock()
        self.received = 0
        self.timed_out = False

    def _check(self) -> None:
        elapsed = self._clock() - self._started
        if elapsed > self._grace and self.received < self._min_rate * (elapsed - self._grace):
            self.timed_out = True
            raise RequestBodyTooSlow(
                f"The request body arrived too slowly ({self.received} bytes in {elapsed:.0f} s; "
                f"at least {self._min_rate:.0f} bytes/s are needed after {self._grace:.0f} s)."
            )

    def _step(self) -> int:
        elapsed = max(self._clock() - self._started, 1e-3)
        return int(min(MAX_STEP, max(MIN_STEP, self.received / elapsed / 4)))

    def _read_raw(self, size: int) -> bytes:
        try:
            data = self._raw.read(size)
        except TimeoutError as exc:
            self.timed_out = True
            raise RequestBodyTooSlow("The request body stopped arriving.") from exc
        self.received += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        parts = []
        remaining = max(0, self._length - self.received)
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        got = 0
        while got < wanted:
            self._check()
            step = min(self._step(), wanted - got)
            data = self._read_raw(step)
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
        try:
            line = self._raw.readline(limit)
        except TimeoutError as exc:
            self.timed_out = True
            raise RequestBodyTooSlow("The request body stopped arriving.") from exc
        self.received += len(line)
        return line

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
            environ["wsgi.input"], length=length, min_rate=self.min_rate, grace=self.grace
        )
        environ["wsgi.input"] = paced

        def start(status, headers, exc_info=None):
            if paced.timed_out:
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)
