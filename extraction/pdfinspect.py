"""What pypdf can tell about an uploaded PDF: pages, encryption, version, producer, title.

Everything pypdf raises on a hostile or broken file becomes one of our 4xx errors; the page tree is
walked under a bound derived from MAX_PDF_PAGES, so a tree claiming millions of pages costs little.
"""

import logging
import os
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, LimitReachedError

from extraction.errors import PdfEncrypted, PdfUnreadable, TooManyPages
from extraction.pdfxref import xref_entries_claimed
from remorai.errors import ApplicationError

logger = logging.getLogger(__name__)

METADATA_KEYS = ("title", "author", "subject", "creator", "producer")
MAX_METADATA_CHARS = 500
# Methods named as PDF readers name them, from the /Encrypt dictionary's V and CFM.
_CRYPT_METHODS = {"/V2": "RC4", "/AESV2": "AES-128", "/AESV3": "AES-256"}


# pypdf repairs a damaged cross-reference table by reading the whole file into memory (twice
# over, briefly). Up to this size we let it; a larger file that needs repair is refused.
MAX_REPAIR_BYTES = 32 * 1024 * 1024
# Intake decodes only structure (cross-reference and object streams, the page tree, metadata):
# no legitimate one comes near this once inflated, while a decompression bomb stops here.
MAX_DECODED_BYTES = 16 * 1024 * 1024
_DECODED_LIMITS = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "jbig2_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "zlib_maximum_output_length",
    "brotli_maximum_output_length",
)


# A cross-reference section may declare at most one entry per this many bytes of the file (a
# real object takes far more, even packed in a compressed object stream), and never fewer than
# SMALL_FILE_ENTRIES; so a 12 KB file cannot make pypdf visit two million entries.
BYTES_PER_ENTRY = 2
SMALL_FILE_ENTRIES = 10_000


class _RepairTooLarge(Exception):
    pass


class _PdfWindow:
    """The spooled file as pypdf sees it: from its %PDF- header on, no single read over a bound.

    Offsets inside a PDF count from its header, so leading junk (mail gateways, scanners) must
    not shift them: the window starts at the header and pypdf finds its xref where it says.
    Seek and read follow io.BytesIO (negative positions clamp, except an absolute seek).
    """

    def __init__(self, raw: BinaryIO, *, start: int, max_read: int):
        self._raw, self._start, self._max_read = raw, start, max_read
        self.refused = False
        self._size = raw.seek(0, os.SEEK_END) - start
        raw.seek(start)

    def tell(self) -> int:
        return self._raw.tell() - self._start

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            if offset < 0:
                raise ValueError(f"negative seek value {offset}")
            target = offset
        elif whence == os.SEEK_CUR:
            target = max(0, self.tell() + offset)
        else:
            target = max(0, self._size + offset)
        self._raw.seek(self._start + target)
        return target

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._size - self.tell())
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        if wanted > self._max_read:
            self.refused = True  # pypdf may swallow the exception and fail differently later
            raise _RepairTooLarge()
        return self._raw.read(wanted)


@dataclass(frozen=True)
class PdfInfo:
    page_count: int
    is_encrypted: bool
    metadata: dict = field(default_factory=dict)


def pdf_inspect(
    stream: BinaryIO, *, max_pages: int, max_objects: int = 500_000, start: int = 0
) -> PdfInfo:
    """Open the PDF read from `stream` (its header at offset `start`) and describe it.

    Raises an ApplicationError for anything that is not a readable PDF within the limits. A PDF
    encrypted with an empty user password opens: it is accepted and flagged. Memory stays
    bounded whatever the file's size (MAX_REPAIR_BYTES at most, for a damaged file).
    """
    window = _PdfWindow(stream, start=start, max_read=MAX_REPAIR_BYTES)
    _check_xref_claims(window, max_objects=max_objects)
    # pypdf's structure limits stay on; the page tree bound is tightened so that walking it stops
    # soon after MAX_PDF_PAGES leaves, and decompression stops at MAX_DECODED_BYTES per stream
    # (pypdf's default, 75 MB, let a 3.5 KB xref-stream bomb grow the heap by 147 MiB).
    page_tree_bound = max_pages * 4 + 1000
    with apply_configuration(
        page_tree_maximum_entries=page_tree_bound,
        page_tree_maximum_page_entries=page_tree_bound * 64,
        **{name: MAX_DECODED_BYTES for name in _DECODED_LIMITS},
    ):
        try:
            reader = PdfReader(window, strict=False)
            is_encrypted = bool(reader.is_encrypted)
            if is_encrypted:
                _open_with_empty_password(reader)
            page_count = _count_pages(reader, max_pages=max_pages)
            metadata = _metadata(reader)
        except ApplicationError:
            raise
        except DependencyError:
            # A missing optional package (e.g. `cryptography` for AES) is our fault, not the file's.
            raise
        except Exception as exc:  # noqa: BLE001 - whatever pypdf raises on a broken file
            if window.refused:
                raise PdfUnreadable(
                    "The PDF is damaged (its cross-reference table needs repair) and too large "
                    f"to repair here (over {MAX_REPAIR_BYTES} bytes)."
                ) from exc
            raise PdfUnreadable(f"The PDF could not be read ({_describe(exc)}).") from exc
    return PdfInfo(page_count=page_count, is_encrypted=is_encrypted, metadata=metadata)


def _check_xref_claims(window: _PdfWindow, *, max_objects: int) -> None:
    """Refuse, before pypdf visits them, more cross-reference entries than the file can hold."""
    size = window.seek(0, os.SEEK_END)
    try:
        claimed = xref_entries_claimed(window)
    except _RepairTooLarge:
        claimed = 0
    finally:
        window.refused = False
    bound = min(max_objects, max(SMALL_FILE_ENTRIES, size // BYTES_PER_ENTRY))
    if claimed > bound:
        raise PdfUnreadable(
            f"The PDF's cross-reference table declares {claimed} objects; a file of {size} bytes "
            f"is accepted with at most {bound}."
        )
    window.seek(0)


def _open_with_empty_password(reader: PdfReader) -> None:
    try:
        opened = reader.decrypt("")
    except DependencyError:
        raise
    except Exception as exc:  # noqa: BLE001 - unknown security handlers, broken /Encrypt
        raise PdfEncrypted(
            f"The PDF is encrypted in a way that cannot be opened ({_describe(exc)})."
        ) from exc
    if opened == PasswordType.NOT_DECRYPTED:
        raise PdfEncrypted()


def _count_pages(reader: PdfReader, *, max_pages: int) -> int:
    try:
        page_count = len(reader.pages)
    except LimitReachedError as exc:
        if _claimed_page_count(reader) > max_pages:
            raise TooManyPages(
                f"The PDF has more than {max_pages} pages.", max_pages=max_pages
            ) from exc
        raise PdfUnreadable(f"The PDF's page tree is too large ({_describe(exc)}).") from exc
    if page_count > max_pages:
        raise TooManyPages(
            f"The PDF has {page_count} pages; the limit is {max_pages}.", max_pages=max_pages
        )
    if page_count == 0:
        raise PdfUnreadable("The PDF has no pages.")
    return page_count


def _claimed_page_count(reader: PdfReader) -> int:
    try:
        return int(reader.root_object["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - a missing or odd /Count claims nothing
        return 0


def _metadata(reader: PdfReader) -> dict:
    """Version, producer, title… as plain short strings. Never fails: the fields are optional."""
    metadata: dict = {}
    header = reader.pdf_header or ""
    if header.startswith("%PDF-"):
        metadata["pdf_version"] = _clean(header[5:])
    try:
        info = reader.metadata
        for key in METADATA_KEYS:
            value = getattr(info, key, None) if info is not None else None
            if value:
                metadata[key] = _clean(str(value))
    except Exception as exc:  # noqa: BLE001
        logger.info("PDF metadata unreadable: %s", _describe(exc))
    if reader.is_encrypted:
        metadata["encryption"] = _encryption(reader)
    return {key: value for key, value in metadata.items() if value}


def _encryption(reader: PdfReader) -> dict:
    try:
        encrypt = reader.trailer["/Encrypt"].get_object()
        version = int(encrypt.get("/V", 0))
        revision = int(encrypt.get("/R", 0))
        if version >= 4:
            crypt_filter_name = encrypt.get("/StmF", "/StdCF")
            crypt_filter = encrypt["/CF"][crypt_filter_name]
            method = _CRYPT_METHODS.get(str(crypt_filter.get("/CFM")), "unknown")
            if method == "RC4":
                length = int(crypt_filter.get("/Length", 16))
                # The spec says bytes; some writers put bits.
                method = f"RC4-{length * 8 if length <= 32 else length}"
        else:
            method = f"RC4-{int(encrypt.get('/Length', 40))}"
        return {"method": method, "v": version, "r": revision}
    except Exception:  # noqa: BLE001
        return {"method": "unknown"}


def _clean(value: str) -> str:
    """Printable text only (no NUL: PostgreSQL's JSON refuses it), bounded in length."""
    kept = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return kept.strip()[:MAX_METADATA_CHARS]


def _describe(exc: BaseException) -> str:
    return _clean(f"{type(exc).__name__}: {exc}")[:200]
