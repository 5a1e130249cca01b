"""Hostile uploads through a REAL HTTP server (pytest-django's live_server, the whole WSGI
stack over a socket): every file in tests/fixtures/pdfs/bad and generated hostile files get the
documented status and code, never a 5xx; a refusal leaves nothing (no row, no media file, no
temporary file); the Python heap stays bounded (tracemalloc) even for decompression bombs.

The service-level cases of each file are in tests/extraction/test_intake.py (its BAD_EXPECTED
table is reused here); this file adds the HTTP server, bombs, polyglots, the request-shape
cases and slow or abandoned uploads.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import httpx
import pytest
from rest_framework.authtoken.models import Token

from extraction.models import Document
from tests import pdfgen
from tests.extraction.test_intake import BAD_EXPECTED

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

MIB = 1 << 20
HEAP_BOUND = 64 * MIB  # per upload; the bombs below expand to 2 GiB


@pytest.fixture
def dirs(tmp_path, settings):
    media, temp = tmp_path / "media", tmp_path / "tmp"
    media.mkdir()
    temp.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through a temporary file
    return media, temp


@pytest.fixture
def server(live_server, user, dirs):
    token = Token.objects.create(user=user).key
    client = httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Token {token}"}, timeout=60
    )
    client.token = token
    client.host, client.port = live_server.thread.host, live_server.thread.port
    yield client
    client.close()


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def no_temp_files(temp: Path) -> bool:
    """The server closes the request's temporary files just after the response is sent: wait
    for that (2 s at most) rather than racing it."""
    deadline = time.monotonic() + 2
    while files_under(temp) and time.monotonic() < deadline:
        time.sleep(0.02)
    return files_under(temp) == []


def assert_nothing_stored(dirs) -> None:
    media, temp = dirs
    assert Document.objects.count() == 0
    assert files_under(media) == []
    assert no_temp_files(temp), files_under(temp)


def post(server, files=None, data=None, **kw) -> tuple[httpx.Response, int]:
    """POST /api/documents/; the response and the heap peak growth while it was served."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        response = server.post("/api/documents/", files=files, data=data, **kw)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert response.status_code < 500, (response.status_code, response.text[:500])
    return response, peak


# --- generated hostile files --------------------------------------------------------------------


def _zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\0" * (16 * MIB)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, compressor.flush()])


_BOMB_CACHE: dict[str, bytes] = {}


def bomb_stream() -> bytes:
    """2 GiB of zeros under two FlateDecode filters: ~3.5 KB on the wire."""
    if "bomb" not in _BOMB_CACHE:
        _BOMB_CACHE["bomb"] = zlib.compress(_zeros_deflated(2048 * MIB), 9)
    return _BOMB_CACHE["bomb"]


def bomb_in_page_content() -> bytes:
    data = bomb_stream()
    stream = (
        b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>\nstream\n" % len(data)
        + data
        + b"\nendstream"
    )
    return pdfgen.raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
            stream,
            stream.replace(b"<< /Length", b"<< /Type /Metadata /Subtype /XML /Length"),
        ]
    )


def bomb_in_xref_stream() -> bytes:
    """A cross-reference stream (the file's only xref) whose data inflates to 2 GiB."""
    head = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        ],
        start=1,
    ):
        offsets.append(len(head))
        head += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(head)
    rows = b"\x00" + struct.pack(">IH", 0, 65535)
    rows += b"".join(b"\x01" + struct.pack(">IH", o, 0) for o in offsets)
    rows += b"\x01" + struct.pack(">IH", xref_at, 0)
    compressor = zlib.compressobj(9)
    inner = compressor.compress(rows)
    block = b"\0" * (16 * MIB)
    inner += b"".join(compressor.compress(block) for _ in range(128)) + compressor.flush()
    data = zlib.compress(inner, 9)
    head += (
        b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R "
        b"/Filter [/FlateDecode /FlateDecode] /Length %d >>\nstream\n"
        % len(data)
        + data
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return bytes(head)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(extra_chunk: bytes = b"", trailer: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + extra_chunk
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
        + trailer
    )


def polyglot_pdf_in_first_kib() -> bytes:
    """A valid PNG whose first chunk holds a whole PDF (signature within the first 1024 bytes)."""
    return png(extra_chunk=png_chunk(b"tEXt", b"pdf\x00" + pdfgen.blank_pdf(marker="poly")))


def polyglot_pdf_after_kib() -> bytes:
    """A PNG with a PDF appended after 4 KiB of image: no %PDF- in the first 1024 bytes."""
    return png(extra_chunk=png_chunk(b"tEXt", b"pad\x00" + b"x" * 4096), trailer=pdfgen.blank_pdf())


def junk_then_pdf(junk: int) -> bytes:
    return b"J" * junk + pdfgen.blank_pdf(marker=str(junk))


HTML = b"<html><script>alert(1)</script></html>"
TWO_FILES = [("file", ("a.pdf", b"%PDF-")), ("file", ("b.pdf", b"%PDF-"))]

# (name, bytes-factory, filename, content type, expected status, expected code or None)
GENERATED = [
    ("page-count-claim-1e9", lambda: pdfgen.page_count_claim_pdf(10**9), "a.pdf", None, 201, None),
    ("page-tree-bomb", pdfgen.page_tree_bomb_pdf, "a.pdf", None, 422, None),
    ("flate-bomb-content-2gib", bomb_in_page_content, "a.pdf", None, 201, None),
    ("flate-bomb-xref-stream-2gib", bomb_in_xref_stream, "a.pdf", None, (201, 422), None),
    ("junk-1000-bytes-before-header", lambda: junk_then_pdf(1000), "a.pdf", None, 201, None),
    ("junk-2000-bytes-before-header", lambda: junk_then_pdf(2000), "a.pdf", None, 415, "not_pdf"),
    ("png-pdf-polyglot-in-first-kib", polyglot_pdf_in_first_kib, "a.png", "image/png", 201, None),
    ("png-with-pdf-appended", polyglot_pdf_after_kib, "a.pdf", "application/pdf", 415, "not_pdf"),
    ("plain-png-as-pdf", png, "a.pdf", "application/pdf", 415, "not_pdf"),
    ("html-as-pdf", lambda: HTML, "a.pdf", None, 415, "not_pdf"),
    ("pdf-as-text-plain", lambda: pdfgen.blank_pdf(marker="txt"), "a.txt", "text/plain", 201, None),
    ("dotdot-name", lambda: pdfgen.blank_pdf(marker="dd"), "../../../etc/passwd", None, 201, None),
    ("nul-name", lambda: pdfgen.blank_pdf(marker="nul"), "in\x00voice.pdf", None, 201, None),
    ("overlong-name", lambda: pdfgen.blank_pdf(marker="long"), "n" * 600 + ".pdf", None, 201, None),
    # A part header over Django's 1024-byte bound is refused by its multipart parser.
    ("name-over-part-header-bound", lambda: pdfgen.blank_pdf(marker="longer"), "n" * 5000 + ".pdf",
     None, 400, "parse_error"),
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_EXPECTED))
def test_every_bad_shared_pdf_over_http(name, server, dirs):
    path = pdfgen.PDFS / "bad" / name
    kind, *expected = BAD_EXPECTED[name]
    response, peak = post(server, files={"file": (name, path.read_bytes(), "application/pdf")})
    assert peak < HEAP_BOUND, peak
    if kind == "reject":
        status, code = expected
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert response.json()["detail"]
        assert_nothing_stored(dirs)
    else:
        assert response.status_code == 201, response.text
        assert response.json()["page_count"] == expected[0]
        assert no_temp_files(dirs[1])  # no temporary file left


@pytest.mark.parametrize(("name", "make", "filename", "ctype", "status", "code"), GENERATED)
def test_generated_hostile_file(name, make, filename, ctype, status, code, server, dirs):
    data = make()
    started = time.monotonic()
    response, peak = post(server, files={"file": (filename, data, ctype or "application/pdf")})
    seconds = time.monotonic() - started
    print(
        f"\nHOSTILE {name}: {response.status_code} heap peak {peak / MIB:.1f} MiB {seconds:.2f} s"
    )
    assert peak < HEAP_BOUND, f"{name}: heap grew {peak / MIB:.0f} MiB"
    assert seconds < 30
    allowed = status if isinstance(status, tuple) else (status,)
    assert response.status_code in allowed, response.text
    body = response.json()
    if response.status_code >= 400:
        assert body["code"] and body["detail"]
        if code:
            assert body["code"] == code
        assert_nothing_stored(dirs)
    else:
        assert no_temp_files(dirs[1])
        stored = Document.objects.get(pk=body["id"])
        assert stored.file.name.startswith("documents/") and ".." not in stored.file.name
        assert "\x00" not in stored.original_name and "/" not in stored.original_name
        assert len(stored.original_name) <= 255


def test_request_shapes(server, dirs):
    pdf = pdfgen.blank_pdf(marker="shape")
    cases = [
        ("no file", None, {
            "content": b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
            "headers": {"Content-Type": "multipart/form-data; boundary=b"},
        }, 400, "file_required"),
        ("a form, not multipart", None, {"data": {"file": "x"}}, 415, "unsupported_media_type"),
        ("file under another field", {"document": ("a.pdf", pdf)}, {}, 400, "file_required"),
        ("two files", TWO_FILES, {}, 400, "too_many_files"),
        ("empty file", {"file": ("a.pdf", b"")}, {}, 400, "empty_file"),
    ]  # fmt: skip
    for label, files, extra, status, code in cases:
        response, peak = post(server, files=files or None, **extra)
        assert (response.status_code, response.json()["code"]) == (status, code), label
        assert peak < HEAP_BOUND
        assert_nothing_stored(dirs)
    json_body = server.post("/api/documents/", json={"file": "JVBERi0="})
    assert json_body.status_code == 415 and json_body.json()["code"]
    raw = server.post("/api/documents/", content=pdf, headers={"Content-Type": "application/pdf"})
    assert 400 <= raw.status_code < 500 and raw.json()["code"]
    assert_nothing_stored(dirs)


def raw_upload(server, body_parts, *, pause: float, content_length: int, finish: bool):
    """Send a multipart upload over a raw socket, `pause` seconds between parts; when `finish`
    is False the client stops sending halfway and closes its side. The status line, or None."""
    boundary = "reliabilityboundary"
    head = (
        f"POST /api/documents/ HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Authorization: Token {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
            time.sleep(pause)
        if not finish:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer.split(b"\r\n", 1)[0].decode() if answer else None


def multipart(pdf: bytes, boundary: str = "reliabilityboundary") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_slow_upload_completes_while_the_server_keeps_answering(server, dirs):
    body = multipart(pdfgen.blank_pdf(pages=2, marker="slow"))
    parts = [body[i : i + 64] for i in range(0, len(body), 64)]
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "status",
            raw_upload(
                server, parts, pause=3.0 / len(parts), content_length=len(body), finish=True
            ),
        )
    )
    thread.start()
    time.sleep(0.5)
    # Another client is served while the slow one trickles in.
    started = time.monotonic()
    assert server.get("/api/documents/").status_code == 200
    assert time.monotonic() - started < 2
    thread.join(30)
    assert result["status"].startswith("HTTP/1.1 201"), result
    assert Document.objects.count() == 1
    assert no_temp_files(dirs[1])


def test_upload_abandoned_halfway_leaves_nothing(server, dirs):
    body = multipart(pdfgen.blank_pdf(pages=3, marker="abandoned"))
    half = body[: len(body) // 2]
    parts = [half[i : i + 256] for i in range(0, len(half), 256)]
    status = raw_upload(server, parts, pause=0.05, content_length=len(body), finish=False)
    # The server answers a 4xx (an incomplete body) or just closes; never a 5xx.
    assert status is None or status.split()[1].startswith("4"), status
    time.sleep(0.5)
    assert_nothing_stored(dirs)
