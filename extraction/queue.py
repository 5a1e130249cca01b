"""Every django-q2 call of the extraction app: enqueue, batch, schedule, broker questions.

Tasks are handed to django-q2 by function (it stores "module.name" for the monitor and pickles
the reference into the signed package); Schedules need the dotted name, so they get it from the
same function with django-q2's own `get_func_repr`.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.utils import timezone

_batch = threading.local()


def _tasks():
    from extraction import tasks  # tasks import the services, which import this module

    return tasks


def _func_name(func) -> str:
    from django_q.utils import get_func_repr

    return get_func_repr(func)


class _CollectingBroker:
    """Takes django-q2's signed packages instead of pushing them one INSERT at a time."""

    def __init__(self, list_key: str):
        self.list_key = list_key
        self.packages: list[str] = []

    def enqueue(self, package: str) -> int:
        self.packages.append(package)
        return len(self.packages)


def enqueue_task(run_id) -> None:
    """Queue the execution of this run (call it after commit)."""
    from django_q.tasks import async_task

    options = {}
    collector = getattr(_batch, "broker", None)
    if collector is not None:
        options["broker"] = collector
    async_task(_tasks().run_extraction, str(run_id), task_name=f"extract-{run_id}", **options)


@contextmanager
def enqueue_batch():
    """Tasks enqueued inside are pushed together at the end: with the ORM broker in one
    bulk INSERT (django-q2 packages them as usual: signals, signing). Other brokers, a
    synchronous cluster or an exception inside: tasks go (or fail) as they would one by one;
    after an exception nothing of the batch is pushed (its runs stay queued for the sweeper)."""
    from django_q.brokers import get_broker
    from django_q.brokers.orm import ORM
    from django_q.conf import Conf

    broker = get_broker()
    if Conf.SYNC or not isinstance(broker, ORM) or getattr(_batch, "broker", None):
        yield
        return
    collector = _CollectingBroker(broker.list_key or Conf.CLUSTER_NAME)
    _batch.broker = collector
    try:
        yield
    finally:
        _batch.broker = None
    if collector.packages:
        from django_q.models import OrmQ

        now = timezone.now()
        broker.get_connection().bulk_create(
            [OrmQ(key=collector.list_key, payload=p, lock=now) for p in collector.packages],
            batch_size=1000,
        )


def schedule_run_later(run_id, at) -> None:
    """Run this run's task once at `at` (a provider asked to wait)."""
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"retry-run-{run_id}"[:100],
        func=_func_name(_tasks().run_extraction),
        args=repr(str(run_id)),
        schedule_type=Schedule.ONCE,
        next_run=at,
        repeats=-1,
    )


def enqueue_remote_delete(ids: list[int]) -> None:
    """Queue the deletion of these remote copies at their providers (call it after commit)."""
    from django_q.tasks import async_task

    async_task(_tasks().delete_remote_files, list(ids), task_name=f"delete-remote-{ids[0]}")


def enqueue_batch_submit(run_ids: list) -> None:
    """Queue sending these batched runs as provider batch jobs (call it after commit)."""
    from django_q.tasks import async_task

    ids = [str(pk) for pk in run_ids]
    async_task(_tasks().submit_batches, ids, task_name=f"submit-batch-{ids[0]}")


def enqueue_webhook_send(delivery_id) -> None:
    """Queue one webhook delivery's send (its id only: no secret, no body in the task)."""
    from django_q.tasks import async_task

    from extraction.webhooks import tasks as webhook_tasks

    async_task(webhook_tasks.send_webhook, str(delivery_id), task_name=f"webhook-{delivery_id}")


def broker_backlog() -> int:
    """Tasks waiting in the broker; an unknown backlog counts as none."""
    try:
        from django_q.brokers import get_broker

        return get_broker().queue_size() or 0
    except Exception:  # noqa: BLE001 - an unknown backlog counts as none
        return 0


def clusters_alive() -> int | None:
    """Queue clusters (qcluster) that reported in the last seconds; None when it cannot be known
    (a synchronous configuration, or no shared cache to read their reports from)."""
    from django_q.conf import Conf
    from django_q.status import Stat

    if Conf.SYNC:
        return None
    try:
        return len(Stat.get_all())
    except Exception:  # noqa: BLE001 - unknown, not "none"
        return None


@contextmanager
def quiet_enqueue_log():
    """django-q2 logs one "Enqueued" line per task at INFO: for a bulk command, noise that
    breaks its progress bar. Warnings and errors still show."""
    import logging

    log = logging.getLogger("django-q")
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        log.setLevel(level)


def broker_ping() -> bool:
    """Whether the broker answers (raises what the broker raises)."""
    from django_q.brokers import get_broker

    return bool(get_broker().ping())


def sweep_when_a_worker_starts() -> None:
    """Connect the sweeper to django-q2's post_spawn: each new worker process sweeps once."""
    from django_q.signals import post_spawn

    post_spawn.connect(_sweep_on_spawn, dispatch_uid="extraction-sweep-on-spawn")


def _sweep_on_spawn(sender, **kwargs) -> None:
    import logging

    try:
        result = _tasks().sweep_stale_runs()
    except Exception:  # noqa: BLE001 - a worker must start even when the database is away
        logging.getLogger(__name__).warning("sweep at worker start failed", exc_info=True)
        return
    if any(result.values()):
        logging.getLogger(__name__).warning("sweep at worker start: %s", result)


def schedule_every_minute(*, name: str, func: str, enabled: bool) -> bool:
    """Create (enabled) or delete an every-minute Schedule; returns whether it now exists."""
    from django_q.models import Schedule

    if not enabled:
        Schedule.objects.filter(name=name).delete()
        return False
    Schedule.objects.update_or_create(
        name=name,
        defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1},
    )
    return True
