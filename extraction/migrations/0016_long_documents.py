"""Long documents (#14): profiles' segmenting settings (snapshotted on runs), a run's segments,
remote copies per page range; the seeded profiles get their defaults (profile_seeds.SEGMENTING)."""

from django.db import migrations, models


def seed_segmenting(apps, schema_editor):
    from extraction.profile_seeds import SEGMENTING

    ExtractionProfile = apps.get_model("extraction", "ExtractionProfile")
    for profile in ExtractionProfile.objects.filter(slug__in=list(SEGMENTING)):
        if not profile.segmenting:
            profile.segmenting = SEGMENTING[profile.slug]
            profile.save(update_fields=["segmenting"])


class Migration(migrations.Migration):
    dependencies = [("extraction", "0015_run_owner")]

    operations = [
        migrations.RemoveConstraint(model_name="uploadedfile", name="uploadedfile_one_live_copy"),
        migrations.AddField(
            model_name="extractionprofile",
            name="segmenting",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="extractionrun",
            name="segmenting",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="extractionrun",
            name="segments",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="uploadedfile",
            name="pages",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddConstraint(
            model_name="uploadedfile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state__in", ["uploading", "active"])),
                fields=("document", "route", "provider", "pages"),
                name="uploadedfile_one_live_copy_per_pages",
            ),
        ),
        migrations.RunPython(seed_segmenting, migrations.RunPython.noop),
    ]
