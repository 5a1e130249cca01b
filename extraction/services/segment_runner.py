"""Concurrent calls of one run's segments (#14): a bounded thread pool for the model calls, the
database kept on the run's own thread.

Each segment call (llm.service.extract: its own retries and fallback) runs in a worker thread;
what it does with the database (its attempt rows, the remote copy cache, the lease's heartbeat
and cancel check) is handed to the run's thread, which serves those calls while it waits. So the
run's connection and transaction are the only ones used (a worker's view of the database is the
run's), and a worker opens no connection to leave behind (closed anyway when it ends).

A segment whose answer was cut at the output limit, or whose sub-PDF is still over every model's
limits, is split in two and both halves are asked; the first other failure stops the rest (they
see the run as cancelled) and is the run's error.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection

from extraction import conf
from extraction.segment_plan import Pages
from extraction.services.files import DocumentFileCache
from llm.errors import Cancelled, LLMError, NoRouteFits, OutputTruncated

logger = logging.getLogger(__name__)


class RunThreadCalls:
    """Calls made from worker threads, executed on the thread that created this object."""

    def __init__(self):
        self.owner = threading.current_thread()
        self._calls: queue.Queue = queue.Queue()

    def call(self, fn: Callable, *args, **kwargs) -> Any:
        if threading.current_thread() is self.owner:
            return fn(*args, **kwargs)
        done: Future = Future()
        self._calls.put((fn, args, kwargs, done))
        return done.result()

    def bound(self, fn: Callable) -> Callable:
        return lambda *args, **kwargs: self.call(fn, *args, **kwargs)

    def serve(self, timeout: float) -> None:
        """Run the calls waiting (or the first one to come within `timeout` seconds)."""
        try:
            item = self._calls.get(timeout=timeout)
        except queue.Empty:
            return
        while item is not None:
            fn, args, kwargs, done = item
            try:
                done.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed back to the worker
                done.set_exception(exc)
            try:
                item = self._calls.get_nowait()
            except queue.Empty:
                item = None


class ThreadFiles:
    """A FileCache whose database work runs on the run's thread (the upload itself in the
    worker, so that segments upload side by side)."""

    def __init__(self, files, calls: RunThreadCalls):
        self.files, self.calls = files, calls

    def get_or_upload(self, **kwargs):
        if isinstance(self.files, DocumentFileCache):
            return self.files.get_or_upload(**kwargs, db=self.calls.call)
        return self.calls.call(self.files.get_or_upload, **kwargs)

    def mark_gone(self, **kwargs):
        return self.calls.call(self.files.mark_gone, **kwargs)


@dataclass(frozen=True)
class Job:
    """One call: `kind` "array" (one array's items on `pages`), "other" (the other fields),
    "map" (the whole schema over `pages`) or "reduce"."""

    kind: str
    pages: Pages | None = None
    name: str = ""
    splittable: bool = False


@dataclass
class Results:
    answers: list[tuple[Job, Any]] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # page ranges split in two


def run_jobs(
    jobs: list[Job],
    call: Callable[[Job, Callable[[], bool]], Any],
    *,
    calls: RunThreadCalls,
    concurrency: int | None = None,
) -> Results:
    """Every job answered (`call(job, keep_going)` in a worker); raises the first failure."""
    stop = threading.Event()
    results = Results()
    failure: BaseException | None = None

    def work(job: Job):
        try:
            return call(job, lambda: not stop.is_set())
        finally:
            connection.close()  # a worker thread's own connection, if anything opened one

    concurrency = concurrency or conf.segment_concurrency()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="segment") as pool:
        pending: dict[Future, Job] = {pool.submit(work, job): job for job in jobs}
        while pending:
            calls.serve(timeout=0.02)
            for future in [f for f in pending if f.done()]:
                job = pending.pop(future)
                try:
                    results.answers.append((job, future.result()))
                except (OutputTruncated, NoRouteFits) as exc:
                    if failure is None and job.splittable and job.pages.count > 1:
                        logger.info("segment %s: %s, split in two", job.pages.label, exc.code)
                        results.splits.append(job.pages.label)
                        for half in job.pages.halves():
                            half_job = replace(job, pages=half)
                            pending[pool.submit(work, half_job)] = half_job
                    elif failure is None:
                        failure = _named(exc, job)
                        stop.set()
                except BaseException as exc:  # noqa: BLE001 - the first one is the run's
                    # A Cancelled after the first failure is the other segments stopping.
                    if failure is None:
                        failure = _named(exc, job) if isinstance(exc, LLMError) else exc
                        stop.set()
    if failure is not None:
        raise failure
    return results


def _named(exc: LLMError, job: Job) -> LLMError:
    """The error, its message naming the call it came from."""
    if isinstance(exc, Cancelled):
        return exc
    if job.pages is not None:
        what = f"pages {job.pages.label}" + (f" ({job.name})" if job.name else "")
        exc.detail = f"Segment {what}: {exc.detail}"
    elif job.kind == "other":
        exc.detail = f"Other fields: {exc.detail}"
    return exc
