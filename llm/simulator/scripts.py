"""Answers dictated by a test, per document: the next call about that PDF answers this value.

POST /_control/next_answer {"sha256": "<the PDF's sha256>", "answer": {...}, "times": 1}
queues `answer` for the next `times` generation calls whose attached document has that sha256
(instead of the value filled from the PDF's text); faults still apply on top. The answer is still
labelled simulated like every simulator answer. Cleared by /_control/reset.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

NOTHING = object()


class ScriptBook:
    def __init__(self):
        self._answers: dict[str, deque] = {}
        self._lock = threading.Lock()

    def add(self, *, sha256: str, answer: Any, times: int = 1) -> dict[str, int]:
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise ValueError("sha256: the document's 64-character hex digest is required")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._answers.setdefault(sha256.lower(), deque()).extend([answer] * times)
        return self.state()

    def take(self, docs) -> Any:
        """The next dictated answer for the first of `docs` that has one, else NOTHING."""
        with self._lock:
            for doc in docs:
                queue = self._answers.get(getattr(doc, "sha256", "") or "")
                if queue:
                    answer = queue.popleft()
                    if not queue:
                        del self._answers[doc.sha256]
                    return answer
        return NOTHING

    def state(self) -> dict[str, int]:
        with self._lock:
            return {sha: len(queue) for sha, queue in self._answers.items()}

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
