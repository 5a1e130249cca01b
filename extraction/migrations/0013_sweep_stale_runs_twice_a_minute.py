"""A second sweeper schedule, 30 s after the first: the sweeper runs twice a minute (django-q2's
schedules are at least a minute apart, its scheduler wakes every 30 s), so a run whose worker
was killed moves again within a minute (#17 §4)."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

NAME = "sweep-stale-runs-offset"
FUNC = "extraction.tasks.sweep_stale_runs"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    first = Schedule.objects.filter(name="sweep-stale-runs").first()
    start = (first.next_run if first and first.next_run else timezone.now()) + timedelta(seconds=30)
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": FUNC,
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
            "next_run": start,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("extraction", "0012_verification"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
