"""Long documents (#14): a generated statement extracted in segments through the simulator.

    .venv/bin/python bench/longdocs.py [PAGES ...]      (default: 300 100)

For each size, in a fresh process on a fresh SQLite database (or DATABASE_URL): a statement of
PAGES pages with 20 line items a page (6,000 at 300 pages; its number and date on page 1, its
total on the last) is written page by page (extraction/textpdf.py), then extracted by the seeded
`invoice` profile through the real LLM stack to the provider simulator (a process of its own,
`--latency generate=2`: every model call takes 2 s; Gemini direct route), as a worker would
(extraction_run_execute). Three ways:
- whole: one call over the whole document (line_items declared `whole`);
- 10+1: the seeded setting (segments of 10 pages + 1 shared; 220 items do not fit the runs'
  4,096 output tokens, so each segment is cut and split in two);
- 5+1: segments of 5 pages + 1 (each answer fits).
Reported: model calls, line-item recall and duplicates against the generator's truth, wall time
(the verification's share apart), peak RSS growth of the worker process (each way in a process
of its own) up to the answer, and with the verification. Goal: 100 % recall, 0 duplicates,
memory flat as pages grow.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import common

ROOT = common.ROOT
PER_PAGE = 20
KEYS = {
    "OPENAI_API_KEY": "sk-bench-openai-0000",
    "GEMINI_API_KEY": "bench-gemini-key-0000",
    "ANTHROPIC_API_KEY": "sk-ant-bench-0000",
}
WAYS = {
    "whole": {"arrays": {"line_items": {"mode": "whole"}}},
    "10+1": {"arrays": {"line_items": {"mode": "segmented", "pages": 10, "overlap": 1}}},
    "5+1": {"arrays": {"line_items": {"mode": "segmented", "pages": 5, "overlap": 1}}},
}


def statement(path: Path, pages: int) -> list[tuple]:
    """Write the statement; returns its line items (description, quantity, amount) in order."""
    from extraction.textpdf import write_text_pdf

    truth = []

    def page(number: int) -> list[str]:
        lines = ["Invoice number: STMT-2026-300", "Issue date: 2026-11-30"] if number == 1 else []
        for _ in range(PER_PAGE):
            item = len(truth) + 1
            row = (f"Statement line {item:05d} service fee", item % 7 + 1, round(item * 1.37, 2))
            truth.append(row)
            lines += [f"Description: {row[0]}", f"Quantity: {row[1]}", f"Amount: {row[2]:.2f}"]
        return lines + (["Total: 123456.78"] if number == pages else [])

    write_text_pdf(path, (page(n) for n in range(1, pages + 1)))
    return truth


def measure(pages: int, ways: list[str]) -> list[dict]:
    tmp = common.sqlite_django("bench-longdocs-")
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from extraction.models import ExtractionProfile
    from extraction.services import execution
    from extraction.services.execution import extraction_run_execute
    from extraction.services.runs import extraction_run_enqueue
    from llm.gateways import reset_gateways
    from llm.simulator.testing import start_process
    from tests.extraction.pipeline import make_document

    simulator = start_process(extra_args=("--latency", "generate=2"))
    settings.LITELLM_BASE_URL = ""
    settings.OPENAI_BASE_URL = simulator.openai_base_url
    settings.GEMINI_BASE_URL = simulator.gemini_base_url
    settings.ANTHROPIC_BASE_URL = simulator.anthropic_base_url
    for name, value in KEYS.items():
        setattr(settings, name, value)
    reset_gateways()

    verifying = {"seconds": 0.0, "rss_before": 0}
    verify = execution.run_verification_compute

    def timed_verification(**kwargs):
        verifying["rss_before"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            return verify(**kwargs)
        finally:
            verifying["seconds"] += time.perf_counter() - started

    execution.run_verification_compute = timed_verification
    truth = statement(tmp / "statement.pdf", pages)
    user = get_user_model().objects.create_user(username="bench", password="bench-pw-123")
    document = make_document(user, tmp / "statement.pdf")
    invoice = ExtractionProfile.objects.get(slug="invoice")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # set up, PDF written
    rows = []
    try:
        for way in ways:
            segmenting = WAYS[way]
            profile, _ = ExtractionProfile.objects.update_or_create(
                slug=f"invoice-{way}",
                defaults={
                    "name": way,
                    "instructions": invoice.instructions,
                    "schema": invoice.schema,
                    "default_model": invoice.default_model,
                    "fallback_models": invoice.fallback_models,
                    "segmenting": segmenting,
                },
            )
            simulator.reset(files=False)
            verifying["seconds"], verifying["rss_before"] = 0.0, 0
            started = time.perf_counter()
            run = extraction_run_enqueue(document=document, profile=profile, trigger="command")
            extraction_run_execute(run_id=run.pk)  # a no-op when the test settings ran it already
            wall = time.perf_counter() - started
            run.refresh_from_db()
            found = [
                (i["description"], i["quantity"], i["amount"])
                for i in (run.result or {}).get("line_items", [])
            ]
            missing = Counter(truth) - Counter(found)
            calls = [r for r in simulator.requests() if r["operation"] == "generate"]
            rows.append(
                {
                    "pages": pages,
                    "way": way,
                    "status": run.status,
                    "error": run.error_code,
                    "calls": len(calls),
                    "splits": len((run.segments or {}).get("split", [])),
                    "items": len(found),
                    "recall": round(1 - sum(missing.values()) / len(truth), 4),
                    "duplicates": len(found) - len(set(found)),
                    "wall_s": round(wall, 1),
                    "verification_s": round(verifying["seconds"], 1),
                    # peak RSS over the process's size once set up and the PDF written: up to
                    # the answer (the calls and the merge), and with the verification
                    "rss_calls_mib": _growth(verifying["rss_before"] or _peak(), rss_before),
                    "rss_total_mib": _growth(_peak(), rss_before),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        simulator.stop()
    return rows


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _growth(peak_kib: int, before_kib: int) -> float:
    return round((peak_kib - before_kib) / 1024, 1)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(int(argv[1]), [argv[2]])))
        return 0
    sizes = [int(a) for a in argv] or [300, 100]
    print("pages  way    status     calls splits  items  recall  dups  wall s (verif.)  RSS+ MiB")
    for pages in sizes:
        for way in WAYS:  # each in a process of its own: its own peak RSS
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(pages), way],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])[0]
            print(
                f"{row['pages']:5d}  {row['way']:5s}  {row['status']:9s} {row['calls']:6d} "
                f"{row['splits']:6d} {row['items']:6d}  {row['recall']:6.2%} "
                f"{row['duplicates']:5d} {row['wall_s']:7.1f} ({row['verification_s']:5.1f})  "
                f"{row['rss_calls_mib']:5.1f} / {row['rss_total_mib']:5.1f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
