"""B7 batch re-extraction: `manage.py reextract --batch` against the simulator.

    .venv/bin/python bench/b7_batch.py [N ...]        (default 1000 10000)
    B7_MODEL=anthropic/claude-haiku-4-5 .venv/bin/python bench/b7_batch.py   (another provider)

1. Submission at scale, for each N: a fresh bench database, N documents with one run each and a
   live remote copy at OpenAI (re-extraction: the documents were uploaded by their first runs),
   then `reextract --profile bench-batch --batch` as a child process: wall time, the child's peak
   RSS (wait4) against a bare `manage.py check`, the provider requests it made (the simulator's
   log) and the batch jobs created.
2. Cost, on 40 real PDFs: the same re-extraction through the normal path (one generate call per
   document) and as a batch job (collected by the poll), the sum of the runs' costs of each, and
   the provider requests of each.

The simulator runs as a process of its own; Django runs in this process for seeding and for
part 2 (tasks executed inline, no worker).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from decimal import Decimal

import common

MODEL = os.environ.get("B7_MODEL", "openai/gpt-4o-mini")
PROVIDER = MODEL.split("/", 1)[0]
PROFILE = "bench-batch"
COST_DOCS = 40
SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_no": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
    "required": ["invoice_no", "total"],
    "additionalProperties": False,
}


def make_profile():
    from django.contrib.auth import get_user_model

    from extraction.models import ExtractionProfile

    user, _ = get_user_model().objects.get_or_create(username="bench")
    ExtractionProfile.objects.get_or_create(
        slug=PROFILE,
        defaults={"name": "Bench batch", "instructions": "Extract the invoice number and total.",
                  "schema": SCHEMA, "default_model": MODEL},
    )  # fmt: skip
    return user


def seed_documents(n: int, tmp, prefix: str) -> None:
    """n distinct real one-page PDFs of the bench user, each with one succeeded run."""
    from django.core.files import File

    from extraction.models import Document, ExtractionProfile, ExtractionRun

    user = make_profile()
    profile = ExtractionProfile.objects.get(slug=PROFILE)
    for i in range(n):
        path = common.make_pdf(tmp / f"{prefix}-{i}.pdf", label=f"INV-{prefix}-{n}-{i}")
        with path.open("rb") as fh:
            doc = Document(owner=user, original_name=path.name, sha256=f"{n:08x}{i:056x}",
                           size_bytes=path.stat().st_size, page_count=1)  # fmt: skip
            doc.file.save(path.name, File(fh), save=True)
        ExtractionRun.objects.create(document=doc, profile=profile, profile_version=1,
                                     instructions=profile.instructions, schema=profile.schema,
                                     requested_model=MODEL, status="succeeded")  # fmt: skip


def seed_remote_copies() -> int:
    """A live OpenAI copy for every document (what their first runs uploaded)."""
    from django.utils import timezone

    from extraction.models import Document, UploadedFile

    now, rows = timezone.now(), []
    for index, (pk, size) in enumerate(Document.objects.values_list("pk", "size_bytes")):
        rows.append(UploadedFile(document_id=pk, route="direct", provider=PROVIDER,
                                 model_group=MODEL, remote_id=f"files/bench{index:06d}",
                                 bytes=size, state="active", uploaded_at=now))  # fmt: skip
    UploadedFile.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def submission(sizes, env, sim) -> list[tuple]:
    from django.db import connections

    rows = []
    cmd = [common.PY, str(common.MANAGE), "reextract", "--profile", PROFILE, "--batch"]
    for n in sizes:
        common.reset_database(env)
        make_profile()
        common.seed_runs(n, profile_slug=PROFILE)
        copies = seed_remote_copies()
        connections.close_all()
        sim.reset()
        seconds, rss, out = common.run_measured(cmd, env)
        calls = Counter(e["operation"] for e in sim.requests(provider=PROVIDER))
        from extraction.models import ExtractionBatch

        jobs = list(ExtractionBatch.objects.values_list("item_count", "remote_id"))
        connections.close_all()
        if copies != n or sum(c for c, _ in jobs) != n or not all(r for _, r in jobs):
            raise RuntimeError(f"expected {n} runs in submitted jobs, got {jobs}:\n{out}")
        rows.append((n, seconds, rss, sum(calls.values()), dict(calls), len(jobs)))
    return rows


def cost(env, sim, tmp) -> dict:
    """The same re-extraction of COST_DOCS real PDFs: normal path, then as a batch job."""
    from django.db import connections

    from extraction.models import ExtractionBatch, ExtractionProfile, ExtractionRun
    from extraction.services import batch_ingest, bulk
    from extraction.services.execution import extraction_run_execute

    common.reset_database(env)
    seed_documents(COST_DOCS, tmp, "cost")
    profile = ExtractionProfile.objects.get(slug=PROFILE)
    bulk._enqueue_all = lambda ids: None  # executed inline below
    sim.reset()
    normal = bulk.extraction_runs_reextract(profile=profile, keep_ids=True)
    for run_id in normal.run_ids:
        extraction_run_execute(run_id=run_id)
    normal_calls = Counter(e["operation"] for e in sim.requests(provider=PROVIDER))
    normal_runs = ExtractionRun.objects.filter(pk__in=normal.run_ids)

    sim.reset(files=False)
    started = time.perf_counter()
    batched = bulk.extraction_runs_reextract(profile=profile, keep_ids=True, provider_batch=True)
    submit_seconds = time.perf_counter() - started
    while ExtractionBatch.objects.filter(status__in=ExtractionBatch.OPEN_STATUSES).exists():
        ExtractionBatch.objects.update(next_poll_at=None)
        batch_ingest.extraction_batches_poll()
    batch_calls = Counter(e["operation"] for e in sim.requests(provider=PROVIDER))
    batch_runs = ExtractionRun.objects.filter(pk__in=batched.run_ids)
    result = {
        "normal_cost": sum(r.cost_usd for r in normal_runs),
        "batch_cost": sum(r.cost_usd for r in batch_runs),
        "normal_ok": normal_runs.filter(status="succeeded").count(),
        "batch_ok": batch_runs.filter(status="succeeded").count(),
        "normal_calls": dict(normal_calls),
        "batch_calls": dict(batch_calls),
        "submit_seconds": submit_seconds,
        "saved": sum(ExtractionBatch.objects.values_list("savings_usd", flat=True), Decimal(0)),
    }
    connections.close_all()
    return result


def main(sizes: list[int]) -> bool:
    with common.workdir() as tmp, common.simulated_django(tmp) as (env, sim, base_rss):
        rows = submission(sizes, env, sim)
        costs = cost(env, sim, tmp)
    print(f"B7 reextract --batch (reference: bare `manage.py check` peak RSS {base_rss:.1f} MiB)")
    print(f"  {'documents':>9}  {'submit s':>8}  {'peak MiB':>8}  {'requests':>8}  {'jobs':>4}")
    for n, seconds, rss, requests, calls, jobs in rows:
        print(f"  {n:>9,}  {seconds:>8.2f}  {rss:>8.1f}  {requests:>8}  {jobs:>4}   {calls}")
    small, big = rows[0], rows[-1]
    growth_small, growth_big = small[2] - base_rss, big[2] - base_rss
    flat = growth_big <= max(2 * growth_small, growth_small + 16)
    few = all(requests <= 2 * jobs + 2 for _, _, _, requests, _, jobs in rows)
    ratio = costs["batch_cost"] / costs["normal_cost"]
    half = abs(ratio - Decimal("0.5")) < Decimal("0.02")
    print(
        f"  RSS over the reference {growth_big:+.1f} MiB at {big[0]:,} vs {growth_small:+.1f} "
        f"MiB at {small[0]:,} (flat: {common.verdict(flat)}); provider requests per submission "
        f"≈ 2 per job (file + batch), not per document: {common.verdict(few)}"
    )
    print(
        f"  cost of {COST_DOCS} documents: normal {costs['normal_cost']:.6f} USD "
        f"({costs['normal_ok']} succeeded, requests {costs['normal_calls']}), batch "
        f"{costs['batch_cost']:.6f} USD ({costs['batch_ok']} succeeded, requests "
        f"{costs['batch_calls']}); ratio {ratio:.3f} (≈ 0.5: {common.verdict(half)})"
        f"; saved {costs['saved']:.6f} USD; submit {costs['submit_seconds']:.2f} s"
    )
    return flat and few and half


if __name__ == "__main__":
    sys.exit(0 if main([int(a) for a in sys.argv[1:]] or [1000, 10000]) else 1)
