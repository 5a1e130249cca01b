from datetime import timedelta

import boto3
import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule
from moto import mock_aws

from extraction.models import ExtractionProfile, ExtractionRun
from extraction.queue_metrics import (
    OLDEST_QUEUED_RUN_METRIC,
    SCHEDULE_NAME,
    TASK,
    publish_queue_metrics,
    queue_metrics_collect,
    queue_metrics_publish,
)
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def _run(*, status, queued_ago, not_before=None):
    profile = ExtractionProfile.objects.order_by("pk").first()
    now = timezone.now()
    return ExtractionRun.objects.create(
        document=DocumentFactory(),
        profile=profile,
        profile_version=profile.version,
        instructions=profile.instructions,
        schema=profile.schema,
        requested_model="gemini/gemini-2.5-flash",
        status=status,
        queued_at=now - queued_ago,
        not_before=not_before,
    )


def test_collect_reports_zero_age_when_nothing_waits():
    figures = queue_metrics_collect()
    assert figures == {OLDEST_QUEUED_RUN_METRIC: 0.0, "QueuedRuns": 0.0, "RunningRuns": 0.0}


def test_collect_reports_oldest_due_queued_run_and_counts():
    _run(status=ExtractionRun.Status.QUEUED, queued_ago=timedelta(minutes=7))
    _run(status=ExtractionRun.Status.QUEUED, queued_ago=timedelta(minutes=2))
    # Waiting for a Retry-After: not due, so it does not count as stuck.
    _run(
        status=ExtractionRun.Status.QUEUED,
        queued_ago=timedelta(hours=3),
        not_before=timezone.now() + timedelta(minutes=5),
    )
    _run(status=ExtractionRun.Status.RUNNING, queued_ago=timedelta(hours=1))
    _run(status=ExtractionRun.Status.SUCCEEDED, queued_ago=timedelta(days=1))

    figures = queue_metrics_collect()

    assert 7 * 60 <= figures[OLDEST_QUEUED_RUN_METRIC] < 8 * 60
    assert figures["QueuedRuns"] == 3
    assert figures["RunningRuns"] == 1


@mock_aws
def test_publish_puts_metrics_in_the_configured_namespace(settings):
    settings.QUEUE_METRICS_NAMESPACE = "RemoraiTest"
    _run(status=ExtractionRun.Status.QUEUED, queued_ago=timedelta(minutes=3))
    client = boto3.client("cloudwatch", region_name="eu-west-1")

    queue_metrics_publish(client=client)

    metrics = client.list_metrics(Namespace="RemoraiTest")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {
        OLDEST_QUEUED_RUN_METRIC,
        "QueuedRuns",
        "RunningRuns",
    }
    stats = client.get_metric_statistics(
        Namespace="RemoraiTest",
        MetricName=OLDEST_QUEUED_RUN_METRIC,
        StartTime=timezone.now() - timedelta(minutes=5),
        EndTime=timezone.now() + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert len(stats) == 1
    assert 180 <= stats[0]["Maximum"] < 240
    assert stats[0]["Unit"] == "Seconds"


def test_scheduled_task_is_a_no_op_when_disabled(settings):
    settings.QUEUE_METRICS_ENABLED = False
    assert publish_queue_metrics() is None


@mock_aws
def test_scheduled_task_publishes_when_enabled(settings, monkeypatch):
    settings.QUEUE_METRICS_ENABLED = True
    settings.QUEUE_METRICS_REGION = "eu-west-1"
    figures = publish_queue_metrics()
    assert figures[OLDEST_QUEUED_RUN_METRIC] == 0.0
    client = boto3.client("cloudwatch", region_name="eu-west-1")
    names = {m["MetricName"] for m in client.list_metrics(Namespace="Remorai")["Metrics"]}
    assert OLDEST_QUEUED_RUN_METRIC in names


def test_schedule_command_follows_the_setting(settings, capsys):
    settings.QUEUE_METRICS_ENABLED = True
    call_command("queue_metrics_schedule")
    call_command("queue_metrics_schedule")  # idempotent
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert schedule.func == TASK
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == 1

    settings.QUEUE_METRICS_ENABLED = False
    call_command("queue_metrics_schedule")
    assert not Schedule.objects.filter(name=SCHEDULE_NAME).exists()
    assert "not scheduled" in capsys.readouterr().out
