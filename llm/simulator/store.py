"""Uploaded files on disk, their metadata in memory, and the PDF text cache."""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pypdf

# Gemini deletes uploaded files after 48 h; the simulator reports the same expiration time.
GEMINI_TTL_SECONDS = 48 * 3600
# Answers are filled from the first pages only: a 1,000-page file must not cost a minute of pypdf.
# 100 = the providers' smallest page limit, so a segment's sub-PDF is always read whole (#14).
MAX_TEXT_PAGES = 100
TEXT_CACHE_SIZE = 256
PAGE_BREAK = "\f"


@dataclass
class StoredFile:
    provider: str
    id: str
    filename: str
    mime_type: str
    path: Path
    size: int = 0
    sha256: str = ""
    purpose: str = ""
    created_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    expired: bool = False
    complete: bool = True
    # Gemini: how many GETs still answer PROCESSING before the file turns ACTIVE.
    processing_polls: int = 0
    # Hash of the bytes written so far through a Sink (so finish() need not read them again).
    hasher: object = None
    written: int = 0

    @property
    def gone(self) -> bool:
        return self.expired or (self.expires_at is not None and time.time() > self.expires_at)


class Sink:
    """File writer that keeps a running sha256 and byte count on the StoredFile."""

    def __init__(self, stored: StoredFile, *, append: bool = False):
        self.stored = stored
        if stored.hasher is None or not append:
            stored.hasher = hashlib.sha256()
            stored.written = 0
        self._fh = open(stored.path, "ab" if append else "wb")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> int:
        self._fh.write(data)
        self.stored.hasher.update(data)
        self.stored.written += len(data)
        return len(data)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def new_id(prefix: str, length: int = 24, alphabet: str = "") -> str:
    alphabet = alphabet or "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class FileStore:
    """Thread-safe file registry; bytes live under `root`, never in memory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._files: dict[tuple[str, str], StoredFile] = {}
        self._lock = threading.Lock()
        self._text_cache: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def create(self, *, provider: str, id: str, filename: str, mime_type: str, **extra):
        path = self.root / provider / id
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = StoredFile(
            provider=provider, id=id, filename=filename, mime_type=mime_type, path=path, **extra
        )
        with self._lock:
            self._files[(provider, id)] = stored
        return stored

    def sink(self, stored: StoredFile, *, append: bool = False) -> Sink:
        """A writer for the file's bytes that hashes them on the way."""
        return Sink(stored, append=append)

    def finish(self, stored: StoredFile) -> StoredFile:
        """Record size and hash once the bytes are on disk."""
        if stored.hasher is not None and stored.path.stat().st_size == stored.written:
            stored.size = stored.written
            stored.sha256 = stored.hasher.hexdigest()
            stored.hasher = None
            stored.complete = True
            return stored
        digest = hashlib.sha256()
        size = 0
        with open(stored.path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        stored.size = size
        stored.sha256 = digest.hexdigest()
        stored.complete = True
        return stored

    def get(self, provider: str, id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get((provider, id))

    def list(self, provider: str) -> list[StoredFile]:
        with self._lock:
            items = [f for (p, _), f in self._files.items() if p == provider and f.complete]
        return sorted(items, key=lambda f: f.created_at, reverse=True)

    def delete(self, provider: str, id: str) -> StoredFile | None:
        with self._lock:
            stored = self._files.pop((provider, id), None)
        if stored is not None:
            stored.path.unlink(missing_ok=True)
        return stored

    def expire(self, provider: str | None = None, id: str | None = None) -> int:
        """Mark files expired (Gemini's 48 h, or a vanished file): they answer as gone."""
        count = 0
        with self._lock:
            for (p, i), stored in self._files.items():
                if (provider in (None, "*", p)) and (id in (None, i)):
                    stored.expired = True
                    count += 1
        return count

    def clear(self) -> None:
        with self._lock:
            files = list(self._files.values())
            self._files.clear()
        for stored in files:
            stored.path.unlink(missing_ok=True)

    # --- text -------------------------------------------------------------------------------

    def text_of_file(self, stored: StoredFile) -> tuple[str, int, str]:
        """(text, page count, sha256) of a stored PDF, cached by content hash."""
        key = stored.sha256 or f"{stored.provider}:{stored.id}"
        cached = self._cached(key)
        if cached is None:
            with open(stored.path, "rb") as fh:
                cached = self._remember(key, pdf_text(fh))
        return (*cached, stored.sha256)

    def text_of_bytes(self, data: bytes) -> tuple[str, int, str]:
        key = hashlib.sha256(data).hexdigest()
        cached = self._cached(key)
        if cached is None:
            cached = self._remember(key, pdf_text(io.BytesIO(data)))
        return (*cached, key)

    def _cached(self, key: str) -> tuple[str, int] | None:
        with self._lock:
            if key in self._text_cache:
                self._text_cache.move_to_end(key)
                return self._text_cache[key]
        return None

    def _remember(self, key: str, result: tuple[str, int]) -> tuple[str, int]:
        with self._lock:
            self._text_cache[key] = result
            while len(self._text_cache) > TEXT_CACHE_SIZE:
                self._text_cache.popitem(last=False)
        return result


def pdf_text(stream) -> tuple[str, int]:
    """(text of the first MAX_TEXT_PAGES pages, page count); unreadable input gives ("", 0).

    Pages are separated by a form feed (PAGE_BREAK): a line break to line-based matching, and
    what tells the filler on which page of the file an item was found."""
    try:
        reader = pypdf.PdfReader(stream)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = []
        for index, page in enumerate(reader.pages):
            if index >= MAX_TEXT_PAGES:
                break
            try:
                pages.append(page.extract_text() or "")
            except Exception:  # noqa: BLE001 - a bad page must not break the simulator
                pages.append("")
        return PAGE_BREAK.join(pages), len(reader.pages)
    except Exception:  # noqa: BLE001
        return "", 0
