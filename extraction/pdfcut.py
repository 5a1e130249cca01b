"""Sub-PDFs of a document (#14): the pages of one segment as a real PDF, written to disk.

One reader per document, shared by the run's segment threads under a lock (pypdf objects are
not thread-safe); each sub-PDF is written straight to its file and its writer dropped, so memory
does not grow with the number of segments."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from pypdf import PdfReader, PdfWriter


class Cutter:
    def __init__(self, source: Path, directory: Path):
        self.source = Path(source)
        self.directory = Path(directory)
        self._reader: PdfReader | None = None
        self._lock = threading.Lock()

    def _open(self) -> PdfReader:
        if self._reader is None:
            reader = PdfReader(self.source, strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            self._reader = reader
        return self._reader

    def cut(self, pages: Iterable[int], name: str) -> Path:
        """The document's `pages` (1-based, in this order) as the PDF `name` in the directory."""
        target = self.directory / name
        with self._lock:
            reader = self._open()
            writer = PdfWriter()
            for page in pages:
                writer.add_page(reader.pages[page - 1])
            with target.open("wb") as out:
                writer.write(out)
        return target
