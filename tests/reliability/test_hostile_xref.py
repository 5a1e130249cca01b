"""Cross-reference bombs through a real HTTP server (issue #17 §1): a 12 KB compressed xref
stream claiming ~2 M entries and classic tables of more entries than MAX_PDF_OBJECTS are refused
with 422 `pdf_unreadable` before pypdf visits them: in well under a second and a few MiB of heap
(before: 5 s / +100 MiB and, for 5 M classic entries, 22 s / +560 MiB of one web worker).

`HOSTILE_XREF_CLASSIC_ENTRIES` (default 600,000: a 12 MB upload) sizes the classic tables;
docs/reliability.md has the figures for 5,000,000 (100 MB).
"""

from __future__ import annotations

import os
import time

import pytest

from tests import xrefgen
from tests.reliability import test_hostile_inputs as hostile

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

MIB = 1 << 20
CLASSIC_ENTRIES = int(os.environ.get("HOSTILE_XREF_CLASSIC_ENTRIES", "600000"))

dirs = hostile.dirs
server = hostile.server

CASES = {
    "xref-stream-2M-entries": lambda: xrefgen.xref_stream_pdf(1_999_990),
    "xref-stream-2M-index": lambda: xrefgen.xref_stream_pdf(1_999_990, index=True),
    "classic-table": lambda: xrefgen.classic_xref_pdf(CLASSIC_ENTRIES),
    "classic-table-19-byte-lines-declared-5": lambda: xrefgen.classic_xref_pdf(
        CLASSIC_ENTRIES, line_end=b"\n"
    ).replace(b"xref\n0 %d\n" % CLASSIC_ENTRIES, b"xref\n0 5\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_xref_claims_the_file_cannot_hold_are_refused_fast(name, server, dirs):
    data = CASES[name]()
    started = time.monotonic()
    response, peak = hostile.post(server, files={"file": ("x.pdf", data, "application/pdf")})
    seconds = time.monotonic() - started
    print(
        f"\nXREF {name}: {len(data)} bytes -> {response.status_code} "
        f"heap peak {peak / MIB:.1f} MiB {seconds:.2f} s"
    )
    assert (response.status_code, response.json()["code"]) == (422, "pdf_unreadable")
    assert "declares" in response.json()["detail"]
    # The client (in this process) holds the body it sends, up to twice while encoding it; the
    # server adds a few MiB at most (pypdf visiting 600,000 classic entries: ~70 MiB).
    assert peak < 2 * len(data) + 16 * MIB, f"heap grew {peak / MIB:.1f} MiB"
    hostile.assert_nothing_stored(dirs)


def test_the_worker_stays_free_while_hostile_xref_files_arrive(server, dirs):
    """Three bombs in a row, then an ordinary request: all answered at once."""
    data = xrefgen.xref_stream_pdf(1_999_990)
    started = time.monotonic()
    for _ in range(3):
        response, _ = hostile.post(server, files={"file": ("x.pdf", data, "application/pdf")})
        assert response.status_code == 422
    assert server.get("/healthz").status_code == 200
    assert time.monotonic() - started < 5  # before the fix: ~15 s of CPU in one worker
