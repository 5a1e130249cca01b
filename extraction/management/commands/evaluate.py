"""python manage.py evaluate --profile SLUG (--truth DIR|reviewed | --baseline-model X ...)"""

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from extraction import evaluation as ev
from extraction.models import ExtractionProfile
from remorai.tables import format_table

_COLUMNS = ("field", "compared", "exact_match", "normalised_match", "precision", "recall", "f1")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        key, sep, field = (part.strip() for part in pair.partition("="))
        if not (sep and key and field):
            raise CommandError(f"--map {pair!r}: use TRUTH_KEY=FIELD")
        mapping[key] = field
    return mapping


UNMATCHED = {"baseline-candidate": "A baseline run but no succeeded candidate run"}


class Command(BaseCommand):
    help = (
        "Score a profile's extraction results field by field: against ground-truth files "
        "(--truth DIR), staff reviews (--truth reviewed), or a baseline's runs "
        "(--baseline-model / --baseline-transport inline)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--profile", required=True, help="profile slug")
        parser.add_argument(
            "--truth", help="a folder of <stem>.json beside <stem>.pdf, or 'reviewed'"
        )
        parser.add_argument("--model", help="score this model's runs (default: latest run)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="TRUTH_KEY=FIELD",
            help="with --truth DIR: score the truth files' TRUTH_KEY as the schema's FIELD "
            "(repeatable)",
        )
        parser.add_argument("--baseline-model", help="reference runs: this model's")
        parser.add_argument("--candidate-model", help="runs scored against the baseline")
        parser.add_argument(
            "--baseline-transport",
            choices=("inline", "file"),
            help="reference runs: this transport's (inline = the previous base64 approach)",
        )
        parser.add_argument(
            "--candidate-transport",
            choices=("inline", "file"),
            help="runs scored (default: file when --baseline-transport is inline)",
        )
        parser.add_argument(
            "--json", nargs="?", const="-", metavar="PATH", help="write JSON (to stdout or PATH)"
        )
        parser.add_argument(
            "--csv", nargs="?", const="-", metavar="PATH", help="write CSV (to stdout or PATH)"
        )
        parser.add_argument(
            "--fail-under",
            type=float,
            metavar="F1",
            help="exit non-zero when the overall F1 is below this (0..1)",
        )
        parser.add_argument(
            "--max-disagreements", type=int, default=20, help="listed in the table (default 20)"
        )

    def handle(self, *args, **o):
        try:
            profile = ExtractionProfile.objects.get(slug=o["profile"])
        except ExtractionProfile.DoesNotExist:
            raise CommandError(f"unknown profile {o['profile']!r}") from None
        result = self._evaluate(profile, o)
        if o["json"]:
            self._write(o["json"], json.dumps(result.as_dict(), indent=2, default=str))
        if o["csv"]:
            self._write(o["csv"], self._csv(result))
        if not o["json"] and not o["csv"]:
            self._table(result, o["max_disagreements"])
        overall_f1 = result.overall.f1
        if o["fail_under"] is not None and (overall_f1 or 0.0) < o["fail_under"]:
            raise CommandError(
                f"overall F1 {_fmt(overall_f1)} is below --fail-under {o['fail_under']}"
            )

    def _evaluate(self, profile, o):
        comparing = o["baseline_model"] or o["candidate_model"] or o["baseline_transport"]
        if o["truth"] and comparing:
            raise CommandError("use either --truth or --baseline-*/--candidate-*, not both")
        if o["map"] and (not o["truth"] or o["truth"] == "reviewed"):
            raise CommandError("--map renames the keys of truth files: it goes with --truth DIR")
        if o["truth"] == "reviewed":
            return ev.evaluate_against_reviews(profile=profile, model=o["model"])
        if o["truth"]:
            directory = Path(o["truth"])
            if not directory.is_dir():
                raise CommandError(f"--truth {directory}: no such folder")
            try:
                return ev.evaluate_against_truth_dir(
                    profile=profile,
                    directory=directory,
                    model=o["model"],
                    mapping=_mapping(o["map"]),
                )
            except (ValueError, json.JSONDecodeError) as exc:
                raise CommandError(f"bad ground-truth file: {exc}") from exc
        if not comparing:
            raise CommandError(
                "give --truth DIR, --truth reviewed, or --baseline-model/--candidate-model "
                "or --baseline-transport inline"
            )
        baseline_transport = o["baseline_transport"]
        candidate_transport = o["candidate_transport"]
        if baseline_transport and not candidate_transport:
            candidate_transport = "file" if baseline_transport == "inline" else "inline"
        models_given = o["baseline_model"] and o["candidate_model"]
        if baseline_transport is None and candidate_transport is None and not models_given:
            raise CommandError("--baseline-model and --candidate-model go together")
        return ev.evaluate_baseline_candidate(
            profile=profile,
            baseline_model=o["baseline_model"] or o["model"],
            candidate_model=o["candidate_model"] or o["model"],
            baseline_transport=baseline_transport,
            candidate_transport=candidate_transport,
        )

    def _write(self, target, text):
        if target == "-":
            self.stdout.write(text)
        else:
            Path(target).write_text(text)
            self.stderr.write(f"wrote {target}")

    def _csv(self, result) -> str:
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_COLUMNS)
        for score in [*result.fields.values(), result.overall]:
            d = score.as_dict()
            writer.writerow([d[c] if d[c] is not None else "" for c in _COLUMNS])
        return buffer.getvalue()

    def _table(self, result, max_disagreements):
        rows = [
            [_fmt(score.as_dict()[c]) for c in _COLUMNS]
            for score in [*result.fields.values(), result.overall]
        ]
        out = self.stdout
        out.write(f"Evaluation ({result.mode}): {result.documents} documents")
        *lines, overall = format_table(_COLUMNS, rows, rule=False).split("\n")
        for line in lines:
            out.write(line)
        out.write("-" * max(len(line) for line in (*lines, overall)))
        out.write(overall)
        if result.simulated_runs:
            out.write(
                f"SIMULATED: {result.simulated_runs} of the scored runs were answered by the "
                "provider simulator, not by a real model."
            )
        ev = result.evidence
        if ev.verified or ev.wrong:
            out.write(
                f"Evidence: of {ev.verified} values marked verified, {ev.verified_correct} equal "
                f"the truth ({_share(ev.verified_correct, ev.verified)}); of {ev.wrong} wrong "
                f"values, {ev.wrong_not_verified} were not marked verified "
                f"({_share(ev.wrong_not_verified, ev.wrong)})."
            )
        if result.missing_runs:
            out.write(f"No succeeded run for: {', '.join(result.missing_runs)}")
        if result.unmatched:
            # truth files without a document; with a baseline, its documents the candidate lacks
            label = UNMATCHED.get(result.mode, "Not matched to a document")
            out.write(f"{label}: {', '.join(result.unmatched)}")
        if result.ignored_truth_keys:
            keys = ", ".join(f"{k} ({n})" for k, n in result.ignored_truth_keys.items())
            out.write(
                f"Not scored, no schema field takes these truth keys (documents): {keys}. "
                "Name the field with --map TRUTH_KEY=FIELD."
            )
        if result.disagreements:
            shown = result.disagreements[:max_disagreements]
            out.write(f"Disagreements ({len(result.disagreements)}):")
            for d in shown:
                expected = json.dumps(d.expected, default=str, ensure_ascii=False)
                got = json.dumps(d.got, default=str, ensure_ascii=False)
                out.write(f"  {d.document}  {d.field}: expected {expected}, got {got}")
            if len(result.disagreements) > len(shown):
                out.write(f"  … and {len(result.disagreements) - len(shown)} more (--json)")
        sys.stdout.flush()
