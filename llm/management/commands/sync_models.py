"""python manage.py sync_models [--dry-run]: the model catalog from the LiteLLM proxy."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from llm.conf import conf
from llm.errors import LLMError
from llm.sync import sync_models


class Command(BaseCommand):
    help = (
        "Create or update the models the LiteLLM proxy serves (limits, prices) from its "
        "/model/info and /v1/models; never deletes. Prints the differences."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the differences, change nothing."
        )

    def handle(self, *args, dry_run: bool, **options):
        if not conf.LITELLM_BASE_URL:
            raise CommandError("LITELLM_BASE_URL is not set: there is no proxy to sync from.")
        try:
            changes = sync_models(dry_run=dry_run)
        except LLMError as exc:
            raise CommandError(f"The proxy did not answer: {exc.code}: {exc.detail}") from exc
        for change in changes:
            self.stdout.write(str(change))
        counts = {a: sum(c.action == a for c in changes) for a in ("create", "update")}
        prefix = "Dry run, nothing written: would " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}create {counts['create']}, update {counts['update']} of "
                f"{len(changes)} models the proxy serves."
            )
        )
