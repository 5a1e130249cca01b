"""PDFs whose cross-reference sections claim more entries than the file holds (issue #17 §1)."""

import struct
import zlib

_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
]


def _body(version: bytes) -> tuple[bytearray, list[int]]:
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(_OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return out, offsets


def xref_stream_pdf(entries: int, *, index: bool = False) -> bytes:
    """A compressed xref stream with `entries` rows (all but five free and zero): ~12 KB for two
    million. `index`: the count is declared by /Index pairs instead of /Size alone."""
    out, offsets = _body(b"1.5")
    xref_at = len(out)
    rows = b"\x00" + struct.pack(">IB", 0, 255)
    rows += b"".join(b"\x01" + struct.pack(">IB", o, 0) for o in offsets)
    rows += b"\x01" + struct.pack(">IB", xref_at, 0)
    compressor = zlib.compressobj(9)
    data = compressor.compress(rows)
    remaining = (entries - 5) * 6
    block = bytes(min(remaining, 1 << 20))
    while remaining > 0:
        data += compressor.compress(block[:remaining])
        remaining -= len(block)
    data += compressor.flush()
    declared = b"/Index [0 5 5 %d] " % (entries - 5) if index else b""
    out += (
        b"4 0 obj\n<< /Type /XRef /Size %d %s/W [1 4 1] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n"
        % (entries, declared, len(data))
        + data
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    )
    return bytes(out)


def classic_xref_pdf(entries: int, *, line_end: bytes = b" \n") -> bytes:
    """A classic xref table of `entries` lines (20 bytes each by the spec; `line_end=b"\\n"`
    makes 19-byte lines, which pypdf also reads): 5 M entries is a 100 MB file."""
    out, offsets = _body(b"1.4")
    xref_at = len(out)
    free = b"0000000000 65535 f" + line_end
    used = b"".join(b"%010d 00000 n" % o + line_end for o in offsets)
    out += (
        b"xref\n0 %d\n" % entries + free + used + (b"0000000000 00000 f" + line_end) * (entries - 4)
    )
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (entries, xref_at)
    return bytes(out)
