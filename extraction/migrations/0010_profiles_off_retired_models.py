"""Move the seeded profiles off anthropic/claude-sonnet-4-5 (Anthropic retires it on 2026-11-30)
onto its catalog replacement, anthropic/claude-sonnet-4-6; the profile's version is bumped (runs
keep the fallbacks they used)."""

from django.db import migrations

RETIRED = "anthropic/claude-sonnet-4-5"
REPLACEMENT = "anthropic/claude-sonnet-4-6"
SEEDED = ("invoice", "summary")


def _swap(apps, old, new):
    ExtractionProfile = apps.get_model("extraction", "ExtractionProfile")
    for profile in ExtractionProfile.objects.filter(slug__in=SEEDED):
        fallbacks = list(profile.fallback_models or [])
        if old not in fallbacks and profile.default_model != old:
            continue
        if profile.default_model == old:
            profile.default_model = new
        swapped = [new if m == old else m for m in fallbacks]
        profile.fallback_models = [m for m in dict.fromkeys(swapped) if m != profile.default_model]
        profile.version += 1
        profile.save(update_fields=["default_model", "fallback_models", "version", "updated_at"])


def forwards(apps, schema_editor):
    _swap(apps, RETIRED, REPLACEMENT)


def backwards(apps, schema_editor):
    pass  # going back must not put profiles on a retired model


class Migration(migrations.Migration):
    dependencies = [
        ("extraction", "0009_idempotency_expiry"),
        ("llm", "0002_seed_models"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
