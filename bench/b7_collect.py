"""B7 (collect): writing a finished batch job's results — `extraction_batches_poll` in a child
process over N answered items: wall time and the child's peak RSS (wait4).

    .venv/bin/python bench/b7_collect.py [N ...]        (default 500 2000)

For each N: a fresh bench database, N real one-page PDFs (distinct) with one run each,
`reextract --batch` (documents uploaded to the simulator, one job), then the poll as a child
process (`manage.py shell -c`), which streams the job's output file and writes every run through
the normal execution path (validation, evidence, lease-guarded write). The reference is a bare
`manage.py check`.
"""

from __future__ import annotations

import io
import sys

import common
from b7_batch import PROFILE, seed_documents

POLL = (
    "from extraction.models import ExtractionBatch as B\n"
    "from extraction.services.batch_ingest import extraction_batches_poll as poll\n"
    "while B.objects.filter(status__in=B.OPEN_STATUSES).exists():\n"
    "    B.objects.update(next_poll_at=None)\n"
    "    poll()\n"
)


def main(sizes: list[int]) -> None:
    from django.core.management import call_command
    from django.db import connections

    rows = []
    with common.workdir() as tmp, common.simulated_django(tmp) as (env, _sim, base_rss):
        for n in sizes:
            common.reset_database(env)
            seed_documents(n, tmp, "c")
            call_command("reextract", "--profile", PROFILE, "--batch", stdout=io.StringIO())
            connections.close_all()
            seconds, rss, out = common.run_measured(
                [common.PY, str(common.MANAGE), "shell", "-c", POLL], env
            )
            from extraction.models import ExtractionBatch, ExtractionRun

            done = ExtractionRun.objects.filter(trigger="command", status="succeeded").count()
            batches = list(ExtractionBatch.objects.values_list("status", "succeeded_count"))
            connections.close_all()
            if done != n:
                raise RuntimeError(f"{done} of {n} runs succeeded ({batches}):\n{out[-2000:]}")
            rows.append((n, seconds, rss))
    print(f"B7 collect (reference: bare `manage.py check` peak RSS {base_rss:.1f} MiB)")
    print(f"  {'items':>6}  {'seconds':>8}  {'ms/item':>8}  {'peak MiB':>8}")
    for n, seconds, rss in rows:
        print(f"  {n:>6,}  {seconds:>8.1f}  {1000 * seconds / n:>8.1f}  {rss:>8.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [500, 2000])
