"""Re-extraction batches reach the ORM broker in one INSERT, as packages the cluster reads."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from extraction.queue import enqueue_batch, enqueue_task
from extraction.tasks import run_extraction

pytestmark = pytest.mark.django_db


@pytest.fixture
def asynchronous(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def test_a_batch_is_one_insert_of_ordinary_packages(asynchronous):
    ids = [uuid.uuid4() for _ in range(3)]
    with CaptureQueriesContext(connection) as ctx, enqueue_batch():
        for run_id in ids:
            enqueue_task(run_id)
        assert OrmQ.objects.count() == 0  # pushed only at the end
    inserts = [
        q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "django_q_ormq"')
    ]
    assert len(inserts) == 1
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]
    assert [(t["func"], t["args"]) for t in tasks] == [(run_extraction, (str(i),)) for i in ids]
    assert [t["name"] for t in tasks] == [f"extract-{i}" for i in ids]


def test_an_exception_inside_pushes_nothing(asynchronous):
    with pytest.raises(RuntimeError), enqueue_batch():
        enqueue_task(uuid.uuid4())
        raise RuntimeError("boom")
    assert OrmQ.objects.count() == 0
    enqueue_task(uuid.uuid4())  # and the next task goes straight to the broker again
    assert OrmQ.objects.count() == 1
