"""Memory of a bulk re-extraction: peak Python allocations while queueing N documents.

    .venv/bin/python bench/reextract_memory.py [N ...]      (default: 10000 40000)

Each size runs on a fresh SQLite database (or DATABASE_URL) with N documents that each have
one run; the queue is replaced by a counter. The peak (tracemalloc) should stay roughly flat
as N grows: the selection is streamed and runs are inserted in batches.
"""

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup(db_path: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{db_path}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "remorai.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    # As in production: DEBUG keeps the last 9,000 SQL statements in memory (connection.queries),
    # which would be measured here as if the re-extraction held them.
    settings.DEBUG = False


def seed(n: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from extraction.models import Document, ExtractionProfile, ExtractionRun

    owner, _ = get_user_model().objects.get_or_create(username=f"bench-{n}")
    profile = ExtractionProfile.objects.create(
        slug=f"bench-{n}", name="bench", instructions="x",
        schema={"type": "object"}, default_model="gemini/gemini-2.5-flash",
    )  # fmt: skip
    now = timezone.now()
    for start in range(0, n, 5000):
        docs = [
            Document(owner=owner, original_name=f"{i}.pdf", file=f"b/{i}.pdf",
                     sha256=f"{n:08x}{i:056x}", size_bytes=1, page_count=1)
            for i in range(start, min(start + 5000, n))
        ]  # fmt: skip
        Document.objects.bulk_create(docs)
        ExtractionRun.objects.bulk_create(
            ExtractionRun(document=d, profile=profile, profile_version=1, instructions="x",
                          schema={}, requested_model="gemini/gemini-2.5-flash",
                          status="succeeded", queued_at=now)
            for d in docs
        )  # fmt: skip
    return profile


def measure(n: int) -> tuple[float, float, int]:
    from extraction.services import bulk

    profile = seed(n)
    queued = [0]

    def count(run_id):
        queued[0] += 1

    bulk.enqueue_task = count
    tracemalloc.start()
    started = time.perf_counter()
    summary = bulk.extraction_runs_reextract(profile=profile, batch_size=500)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.created == n == queued[0], (summary, queued[0])
    return peak / (1024 * 1024), elapsed, summary.created


def main(sizes):
    with tempfile.TemporaryDirectory() as tmp:
        setup(str(Path(tmp) / "bench.sqlite3"))
        print(f"{'documents':>10}  {'peak MiB':>9}  {'seconds':>8}")
        for n in sizes:
            peak, elapsed, created = measure(n)
            print(f"{created:>10}  {peak:>9.1f}  {elapsed:>8.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 40_000])
