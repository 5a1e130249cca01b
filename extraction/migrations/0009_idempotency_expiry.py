"""Idempotency records expire (IDEMPOTENCY_TTL_HOURS): index their age and purge them hourly."""

from django.db import migrations, models

NAME = "purge-idempotency-records"
FUNC = "extraction.tasks_cleanup.purge_idempotency_records"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": "H", "repeats": -1}
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("extraction", "0008_einvoice_and_checks"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True),
        ),
        migrations.RunPython(create_schedule, delete_schedule),
    ]
