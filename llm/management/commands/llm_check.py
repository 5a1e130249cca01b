"""python manage.py llm_check [--live] [--model M ...]: can the configured routes serve?

One row per model and route: key present, reachable (the gateway's health(), no model call),
and with --live one tiny completion. Then every profile (or other registered user) whose default
or fallback models are retired or retire within 30 days. Exit status 1 when no route can serve.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from llm.diagnostics import RouteStatus, route_statuses
from llm.model_users import retirement_flags
from remorai.tables import format_table


class Command(BaseCommand):
    help = "Check every configured LLM route (key, reachability; --live: one tiny completion)."

    def add_arguments(self, parser):
        parser.add_argument("--live", action="store_true", help="Make one tiny completion each.")
        parser.add_argument(
            "--model", action="append", default=[], help="Only this model (repeatable)."
        )

    def handle(self, *args, live: bool, model: list[str], **options):
        statuses = route_statuses(models=model or None, live=live)
        self.stdout.write(_table(statuses, live=live))
        for status in statuses:
            if status.deprecated:
                self.stdout.write(self.style.WARNING(status.deprecated))  # it names the model
        for flag in retirement_flags():
            style = self.style.ERROR if flag.retired else self.style.WARNING
            self.stdout.write(style(str(flag)))
        serving = [s for s in statuses if s.can_serve]
        if settings.DEBUG:  # a laptop: say whether a running `make run`'s simulator is used
            from remorai.devstate import describe

            self.stdout.write(describe())
        if not serving:
            raise CommandError("No configured route can serve: see the table above.")
        summary = f"{len(serving)} of {len(statuses)} routes can serve."
        self.stdout.write(self.style.SUCCESS(summary))


def _table(statuses: list[RouteStatus], *, live: bool) -> str:
    header = ["MODEL", "ROUTE", "KEY", "REACHABLE", *(["LIVE"] if live else []), "DETAIL"]
    rows = []
    for s in statuses:
        row = [s.model, s.route, "yes" if s.key_present else "no", _yes_no(s.reachable)]
        if live:
            row.append(_yes_no(s.live_ok))
        row.append(s.detail)
        rows.append(row)
    return format_table(header, rows, rule=False)


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")
