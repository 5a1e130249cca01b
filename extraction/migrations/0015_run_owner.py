"""Runs carry their document's owner (B4: "my runs" is one index range, no join), and the
never-read idempotency_key goes (the API's idempotency lives in IdempotencyRecord)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BACKFILL = """
UPDATE extraction_extractionrun SET owner_id = (
    SELECT d.owner_id FROM extraction_document d WHERE d.id = extraction_extractionrun.document_id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("extraction", "0014_run_cost_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(model_name="extractionrun", name="idempotency_key"),
        migrations.AddField(
            model_name="extractionrun",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="extractionrun",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="extractionrun",
            index=models.Index(fields=["owner", "-created_at", "-id"], name="run_owner_created"),
        ),
    ]
