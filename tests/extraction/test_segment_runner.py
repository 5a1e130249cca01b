"""The segment runner (#14): bounded worker threads, database work on the run's thread, cut
answers split in two, the first failure stops the rest and names its pages."""

import threading

import pytest
from django.db import connections

from extraction.models import ExtractionProfile, UploadedFile
from extraction.segment_plan import Pages
from extraction.services.files import DocumentFileCache
from extraction.services.segment_runner import Job, RunThreadCalls, ThreadFiles, run_jobs
from llm.errors import Cancelled, OutputTruncated, RequestRejected
from llm.types import RemoteFile
from tests.extraction.pipeline import make_document


def test_database_work_runs_on_the_runs_thread_and_workers_close_their_connections(db, monkeypatch):
    calls = RunThreadCalls()
    seen, opened, closed = [], set(), set()
    wrapper = type(connections["default"])
    close = wrapper.close

    def spied_close(self):
        closed.add(threading.get_ident())
        return close(self)

    monkeypatch.setattr(wrapper, "close", spied_close)

    def on_run_thread():
        seen.append(threading.current_thread() is calls.owner)
        return ExtractionProfile.objects.count()

    def call(job, keep_going):
        opened.add(threading.get_ident())
        connections["default"].ensure_connection()  # as a catalog read in a worker would
        return calls.call(on_run_thread)

    results = run_jobs([Job("array", pages=Pages(n, n)) for n in range(1, 7)], call, calls=calls)
    assert len(results.answers) == 6 and seen == [True] * 6
    assert opened and opened <= closed and threading.get_ident() not in closed


@pytest.mark.parametrize("bound", [4, 2])
def test_no_more_than_the_bound_run_at_once(settings, bound):
    settings.EXTRACTION_SEGMENT_CONCURRENCY = bound
    calls = RunThreadCalls()
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def call(job, keep_going):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        threading.Event().wait(0.1)
        with lock:
            state["now"] -= 1
        return job.pages.first

    results = run_jobs([Job("array", pages=Pages(n, n)) for n in range(1, 13)], call, calls=calls)
    assert len(results.answers) == 12 and state["most"] == bound


def test_a_cut_answer_is_split_in_two_until_it_fits():
    def call(job, keep_going):
        if job.pages.count > 2:
            raise OutputTruncated("cut")
        return job.pages

    results = run_jobs(
        [Job("array", pages=Pages(1, 8), splittable=True)], call, calls=RunThreadCalls()
    )
    assert sorted(answer for _, answer in results.answers) == [
        Pages(1, 2),
        Pages(3, 4),
        Pages(5, 6),
        Pages(7, 8),
    ]
    assert results.splits == ["1-8", "1-4", "5-8"]


def test_a_one_page_answer_still_cut_fails_the_run():
    def call(job, keep_going):
        raise OutputTruncated("cut")

    with pytest.raises(OutputTruncated) as caught:
        run_jobs([Job("array", pages=Pages(1, 2), splittable=True)], call, calls=RunThreadCalls())
    assert caught.value.detail.startswith("Segment pages ")


def test_the_first_failure_stops_the_others_and_names_its_pages():
    started = threading.Event()

    def call(job, keep_going):
        if job.pages.first == 3:
            started.wait(5)
            raise RequestRejected("refused")
        started.set()
        while keep_going():  # a long call that checks in, as llm.service does
            threading.Event().wait(0.01)
        raise Cancelled("stopped")

    jobs = [Job("array", pages=Pages(n, n), name="line_items") for n in (1, 2, 3)]
    with pytest.raises(RequestRejected) as caught:
        run_jobs(jobs, call, calls=RunThreadCalls())
    assert caught.value.detail == "Segment pages 3-3 (line_items): refused"


def test_segments_upload_in_their_workers_and_keep_their_rows_on_the_runs_thread(db, user):
    document = make_document(user)
    calls = RunThreadCalls()
    on_run_thread = []

    def upload():
        on_run_thread.append(threading.current_thread() is calls.owner)
        return RemoteFile(id=f"file-{len(on_run_thread)}", bytes=10)

    def call(job, keep_going):
        files = ThreadFiles(DocumentFileCache(document, pages=job.pages.label), calls)
        return files.get_or_upload(
            route="direct", provider="gemini", model="gemini/gemini-2.5-flash", upload=upload
        )

    jobs = [Job("array", pages=Pages(1, 2)), Job("array", pages=Pages(2, 3))]
    results = run_jobs(jobs, call, calls=calls)
    assert on_run_thread == [False, False] and len(results.answers) == 2
    copies = UploadedFile.objects.filter(state="active").values_list("pages", flat=True)
    assert sorted(copies) == ["1-2", "2-3"]
    again = run_jobs(jobs, call, calls=calls)  # cached: no second upload
    assert len(on_run_thread) == 2 and len(again.answers) == 2
