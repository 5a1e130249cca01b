"""Uploaded files on disk, their metadata in memory, and the PDF text cache."""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pypdf

# Gemini deletes uploaded files after 48 h; the simulator reports the same expiration time.
GEMINI_TTL_SECONDS = 48 * 3600


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

    @property
    def gone(self) -> bool:
        return self.expired or (self.expires_at is not None and time.time() > self.expires_at)


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
        self._text_cache: dict[str, tuple[str, int]] = {}

    def create(self, *, provider: str, id: str, filename: str, mime_type: str, **extra):
        path = self.root / provider / id
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = StoredFile(
            provider=provider, id=id, filename=filename, mime_type=mime_type, path=path, **extra
        )
        with self._lock:
            self._files[(provider, id)] = stored
        return stored

    def finish(self, stored: StoredFile) -> StoredFile:
        """Record size and hash once the bytes are on disk."""
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

    def text_of_file(self, stored: StoredFile) -> tuple[str, int]:
        """(text, page count) of a stored PDF, cached by content hash."""
        key = stored.sha256 or f"{stored.provider}:{stored.id}"
        with self._lock:
            if key in self._text_cache:
                return self._text_cache[key]
        with open(stored.path, "rb") as fh:
            result = pdf_text(fh)
        with self._lock:
            self._text_cache[key] = result
        return result

    def text_of_bytes(self, data: bytes) -> tuple[str, int]:
        key = hashlib.sha256(data).hexdigest()
        with self._lock:
            if key in self._text_cache:
                return self._text_cache[key]
        result = pdf_text(io.BytesIO(data))
        with self._lock:
            self._text_cache[key] = result
        return result


def pdf_text(stream) -> tuple[str, int]:
    """Extract the text layer; unreadable or non-PDF input gives ("", 0)."""
    try:
        reader = pypdf.PdfReader(stream)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = []
        for page in reader.pages:
            try:
                pages.append(page.extract_text() or "")
            except Exception:  # noqa: BLE001 - a bad page must not break the simulator
                pages.append("")
        return "\n".join(pages), len(reader.pages)
    except Exception:  # noqa: BLE001
        return "", 0
