"""A daily django-q2 schedule that syncs the model catalog from the proxy (a no-op without
LITELLM_BASE_URL: see llm.tasks.sync_models_daily)."""

from django.db import migrations

NAME = "sync-models"
FUNC = "llm.tasks.sync_models_daily"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": "D", "repeats": -1}
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("llm", "0002_seed_models"),
        ("django_q", "0018_task_success_index"),
    ]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
