"""Seed the `invoice` and `summary` profiles (kept if an operator already edited them)."""

from django.db import migrations


def seed_profiles(apps, schema_editor):
    from extraction.profile_seeds import PROFILES

    ExtractionProfile = apps.get_model("extraction", "ExtractionProfile")
    for spec in PROFILES:
        ExtractionProfile.objects.get_or_create(slug=spec["slug"], defaults=spec)


def unseed_profiles(apps, schema_editor):
    ExtractionProfile = apps.get_model("extraction", "ExtractionProfile")
    ExtractionProfile.objects.filter(slug__in=["invoice", "summary"], runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("extraction", "0002_run_and_remote_copy_permissions")]
    operations = [migrations.RunPython(seed_profiles, unseed_profiles)]
