"""python manage.py cleanup_files [--older-than 7d] [--expired] [--orphaned] [--dry-run]"""

import json

from django.core.management.base import BaseCommand, CommandError

from extraction.durations import parse_duration
from extraction.services.cleanup import uploaded_file_cleanup
from remorai.tables import format_table


def _human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class Command(BaseCommand):
    help = (
        "Delete remote copies of documents that are no longer needed (document deleted, past "
        "retention, expired), never one used by a queued or running run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", help="also copies uploaded longer ago, e.g. 7d, 12h")
        parser.add_argument("--expired", action="store_true", help="also copies past expiry")
        parser.add_argument(
            "--orphaned",
            action="store_true",
            help="list files at each provider (where its API allows) and delete unknown ones",
        )
        parser.add_argument("--dry-run", action="store_true", help="report only; delete nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        older_than = None
        if options["older_than"]:
            try:
                older_than = parse_duration(options["older_than"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        report = uploaded_file_cleanup(
            older_than=older_than,
            expired=options["expired"],
            orphaned=options["orphaned"],
            dry_run=options["dry_run"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self._table(report)
        if report.errors:
            plural = "s" if report.errors != 1 else ""
            raise CommandError(
                f"cleanup hit {report.errors} error{plural} (outcome error, see detail): "
                "what failed is kept; run it again later."
            )

    def _table(self, report):
        header = ("route", "provider", "remote id", "bytes", "reason", "outcome", "detail")
        rows = [
            (r.route, r.provider, r.remote_id or "-", str(r.bytes), r.reason, r.outcome, r.detail)
            for r in report.rows
        ]
        self.stdout.write(format_table(header, rows))
        verb = "would delete" if report.dry_run else "deleted"
        skipped = sum(1 for r in report.rows if r.outcome == "skipped_in_use")
        self.stdout.write(
            f"Total: {verb} {report.files} files, {report.bytes} bytes "
            f"({_human_bytes(report.bytes)}); skipped in use: {skipped}; errors: {report.errors}"
        )
