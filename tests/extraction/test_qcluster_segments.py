"""A segmented run (#14) through a REAL qcluster worker process on PostgreSQL: its segment calls
run in threads of the worker (their database work on the run's thread)."""

import pytest

from extraction.models import ExtractionRun
from extraction.services.runs import extraction_run_enqueue
from tests.extraction import test_qcluster
from tests.extraction.pipeline import INVOICE_PDF, make_document, seeded_profile
from tests.extraction.test_runs_segmented import statement

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]

cluster = test_qcluster.cluster  # the same fixture
Status = ExtractionRun.Status


def run(document, profile):
    queued = extraction_run_enqueue(document=document, profile=profile, trigger="command")
    return test_qcluster.wait_finished(queued.pk, timeout=120)


def test_a_segmented_run_in_the_worker_merges_every_line_once(cluster, simulator, user, tmp_path):
    cluster()
    warm = run(make_document(user, INVOICE_PDF), seeded_profile("summary"))
    assert warm.status == Status.SUCCEEDED, (warm.error_code, warm.error_message)

    truth = statement(tmp_path / "statement.pdf", pages=45, per_page=4)  # 5 segments of 10 + 1
    done = run(make_document(user, tmp_path / "statement.pdf"), seeded_profile("invoice"))
    assert done.status == Status.SUCCEEDED, (done.error_code, done.error_message)
    assert [i["description"] for i in done.result["line_items"]] == truth
    assert [c["pages"] for c in done.segments["calls"] if c["kind"] == "array"] == [
        "1-11",
        "11-21",
        "21-31",
        "31-41",
        "41-45",
    ]
    assert done.attempts.filter(operation="generate").count() == 6
