"""python manage.py reextract --profile SLUG [filters] [--dry-run] [--batch-size N] [--wait]
[--batch] (as provider batch jobs: half the price, answers within 24 h)"""

import sys
import time
import uuid
from datetime import datetime
from datetime import time as dtime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from extraction.durations import parse_duration
from extraction.models import ExtractionProfile, ExtractionRun, Transport, Trigger
from extraction.queue import clusters_alive, quiet_enqueue_log
from extraction.services.bulk import (
    ReextractFilters,
    extraction_runs_reextract,
    reextract_candidates,
    reextract_progress,
)
from remorai.errors import ApplicationError

SAMPLE = 10


def parse_when(text: str) -> datetime:
    """An ISO date or datetime, or a duration back from now (7d, 12h)."""
    try:
        return timezone.now() - parse_duration(text)
    except ValueError:
        pass
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"invalid date {text!r}: use YYYY-MM-DD, an ISO datetime or 7d")
        moment = datetime.combine(day, dtime.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Queue new extractions (trigger=command, redo_of set) for every document whose latest "
        "run of the profile matches the filters (by default: every document with a run of it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, help="profile slug")
        parser.add_argument("--model", help="model of the new runs (default: the profile's)")
        parser.add_argument("--from-model", help="only documents whose latest run used this model")
        parser.add_argument(
            "--status",
            action="append",
            choices=[s.value for s in ExtractionRun.Status],
            help="only documents whose latest run has this status (repeatable)",
        )
        parser.add_argument(
            "--failed-only", action="store_true", help="only documents whose latest run failed"
        )
        parser.add_argument("--document", nargs="+", metavar="ID", help="only these documents")
        parser.add_argument("--since", help="latest run created at or after (date, or 7d ago)")
        parser.add_argument("--until", help="latest run created before (date, or 1d ago)")
        parser.add_argument("--limit", type=int, help="at most this many documents")
        parser.add_argument(
            "--transport", choices=Transport.values, default=Transport.FILE, help="default file"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count and show a sample; enqueue nothing"
        )
        parser.add_argument("--batch-size", type=int, default=500, help="runs per insert")
        parser.add_argument(
            "--batch",
            action="store_true",
            help="send the runs as provider batch jobs (half the price; answers within 24 h)",
        )
        parser.add_argument("--wait", action="store_true", help="follow the runs to completion")
        parser.add_argument(
            "--poll", type=float, default=2.0, help="seconds between checks with --wait"
        )
        parser.add_argument(
            "--timeout",
            "--wait-timeout",
            dest="wait_timeout",
            type=float,
            metavar="SECONDS",
            help="with --wait: stop waiting after this many seconds (the runs go on)",
        )

    def handle(self, *args, **o):
        try:
            profile = ExtractionProfile.objects.get(slug=o["profile"])
        except ExtractionProfile.DoesNotExist:
            raise CommandError(f"unknown profile {o['profile']!r}") from None
        if o["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if o["limit"] is not None and o["limit"] < 0:
            raise CommandError("--limit must not be negative")
        for document_id in o["document"] or ():
            try:
                uuid.UUID(document_id)
            except ValueError:
                raise CommandError(f"--document {document_id!r} is not a document id") from None
        statuses = list(o["status"] or [])
        if o["failed_only"]:
            statuses = [ExtractionRun.Status.FAILED]
        filters = ReextractFilters(
            from_model=o["from_model"],
            statuses=statuses,
            document_ids=o["document"] or (),
            since=parse_when(o["since"]) if o["since"] else None,
            until=parse_when(o["until"]) if o["until"] else None,
        )
        model = o["model"] or profile.default_model
        if o["batch"] and o["transport"] != Transport.FILE:
            raise CommandError("--batch sends documents by file: it cannot be used with inline")
        if o["dry_run"]:
            return self._dry_run(profile, filters, model, o["limit"], o["batch"])
        try:
            self._run(profile, filters, model, o)
        except KeyboardInterrupt:
            # Ctrl-C: what was queued stays queued (each batch was committed); no traceback.
            raise CommandError(self._interrupted, returncode=130) from None

    def _dry_run(self, profile, filters, model, limit, batch=False):
        candidates = reextract_candidates(profile=profile, filters=filters)
        eligible = candidates.exclude(status__in=ExtractionRun.ACTIVE_STATUSES)
        count = eligible.count()
        if limit is not None:
            count = min(count, limit)
        active = candidates.filter(status__in=ExtractionRun.ACTIVE_STATUSES).count()
        self.stdout.write(
            f"Would re-extract {count} documents with profile {profile.slug} "
            f"and model {model}{' as provider batch jobs' if batch else ''} "
            "(dry run: nothing enqueued)."
        )
        if active:
            self.stdout.write(f"Skipped: {active} documents with a queued or running run.")
        sample = eligible.select_related("document")[: min(SAMPLE, count)]
        if sample:
            self.stdout.write("Sample:")
        for run in sample:
            self.stdout.write(
                f"  {run.document_id}  {run.document.original_name}  latest run {run.pk} "
                f"({run.status}, {run.model_used or run.requested_model})"
            )

    def _run(self, profile, filters, model, o):
        total = reextract_candidates(profile=profile, filters=filters).count()
        if o["limit"] is not None:
            total = min(total, o["limit"])
        quiet = not sys.stderr.isatty()
        self._interrupted = "Interrupted while queueing: the runs queued so far stay queued."
        with (
            tqdm(total=total, desc="queueing", unit="doc", disable=quiet, file=sys.stderr) as bar,
            quiet_enqueue_log(),
        ):
            try:
                summary = extraction_runs_reextract(
                    profile=profile,
                    model=model,
                    transport=o["transport"],
                    filters=filters,
                    limit=o["limit"],
                    batch_size=o["batch_size"],
                    trigger=Trigger.COMMAND,
                    on_batch=bar.update,
                    provider_batch=o["batch"],
                )
            except ApplicationError as exc:
                raise CommandError(exc.detail) from exc
        if o["batch"]:
            self._batch_report(summary)
        self.stdout.write(
            f"Queued {summary.created} re-extractions with profile {profile.slug} and model "
            f"{model} ({summary.candidates} candidates; skipped {summary.skipped_active} with a "
            f"queued or running run, {summary.skipped_conflict} started meanwhile)."
        )
        if o["wait"] and summary.created:
            # Queueing is over (a Ctrl-C from here on only stops the waiting), and the warning
            # below must not race the message: a user may press Ctrl-C as soon as it shows.
            self._interrupted = "Stopped waiting: the runs go on in the background."
        if summary.created and not o["batch"] and clusters_alive() == 0:
            self.stderr.write(
                self.style.WARNING(
                    "No queue worker (qcluster) is running: the runs stay queued until one "
                    "starts (`make run`, or `python manage.py qcluster`)."
                    + (" Waiting anyway; Ctrl-C or --timeout stops waiting." if o["wait"] else "")
                )
            )
        if o["wait"] and summary.created:
            self._wait(profile, summary, o["poll"], quiet, o["wait_timeout"])

    def _batch_report(self, summary):
        jobs = [b for b in summary.batches if b.remote_id]
        sent = sum(b.item_count for b in jobs)
        self.stdout.write(
            f"Sent {sent} runs as {len(jobs)} provider batch jobs (half the price; the answers "
            "come within 24 h, collected by the poll-provider-batches schedule)."
        )
        waiting = ExtractionRun.objects.filter(
            status=ExtractionRun.Status.BATCHED,
            batch__isnull=True,
            trigger=Trigger.COMMAND,
            queued_at__gte=summary.started_at,
        ).count()
        if waiting:
            self.stdout.write(
                f"{waiting} runs wait for the next submission (another one was running): the "
                "poll-provider-batches schedule sends them within minutes."
            )
        if summary.created > sent + waiting:
            self.stdout.write(
                f"{summary.created - sent - waiting} runs went to the normal queue instead (a "
                "long document answered in segments or over the model's limits, an e-invoice "
                "answered from its XML, an upload that failed, a job the provider refused)."
            )
        for batch in summary.batches:
            self.stdout.write(
                f"  batch {batch.pk}: {batch.provider} {batch.model}, {batch.item_count} runs, "
                f"{batch.status}" + (f" ({batch.error_message})" if batch.error_message else "")
            )

    def _wait(self, profile, summary, poll, quiet, timeout):
        since = summary.started_at
        deadline = time.monotonic() + timeout if timeout else None
        done_statuses = [s.value for s in ExtractionRun.TERMINAL_STATUSES]
        with tqdm(
            total=summary.created, desc="running", unit="run", disable=quiet, file=sys.stderr
        ) as bar:
            while True:
                counts = reextract_progress(profile=profile, since=since, trigger=Trigger.COMMAND)
                finished = sum(counts.get(s, 0) for s in done_statuses)
                bar.update(finished - bar.n)
                if finished >= summary.created:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise CommandError(
                        f"--timeout: {summary.created - finished} runs still queued or "
                        "running (they go on in the background)"
                    )
                time.sleep(poll)
        summary_line = ", ".join(f"{counts.get(s, 0)} {s}" for s in done_statuses)
        self.stdout.write(f"Finished: {summary_line}.")
        simulated = sum(
            reextract_progress(
                profile=profile, since=since, trigger=Trigger.COMMAND, simulated=True
            ).values()
        )
        if simulated:
            self.stdout.write(
                f"SIMULATED: {simulated} of these runs were answered by the provider simulator, "
                "not by a real model."
            )
