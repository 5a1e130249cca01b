"""Seed the model catalog (llm/seed.py: the models current on 2026-11-30 and their sources)."""

from django.db import migrations


def seed(apps, schema_editor):
    from llm.seed import seed_models

    seed_models(apps.get_model("llm", "LLMModel"))


def unseed(apps, schema_editor):
    from llm.seed import MODELS

    names = [m[0] for m in MODELS]
    apps.get_model("llm", "LLMModel").objects.filter(name__in=names, source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
