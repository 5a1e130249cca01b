"""B1 pipeline efficiency: N extractions through the API, the queue and 4 workers.

    .venv/bin/python bench/b1_pipeline.py [RUNS] [WORKERS] [LATENCY]     (default 200 4 2.0)

PostgreSQL bench database, gunicorn, `qcluster` with Q_WORKERS=4 and the ORM broker, the
simulator answering every generate call after LATENCY seconds (uploads at once). N distinct
small PDFs are uploaded first, then N extractions are requested as fast as the API takes them;
the clock runs from the first request to the last run's finished_at. Ideal: WORKERS x 60 /
LATENCY runs per minute. Target: achieved ÷ ideal >= 0.90.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

import common

TARGET = 0.90


def main(runs: int, workers: int, latency: float) -> bool:
    with common.workdir() as tmp:
        pdfs = [common.make_pdf(tmp / f"b1-{i}.pdf", label=f"B1-{i}") for i in range(runs)]
        sim_args = ("--latency", f"generate={latency}")
        with common.stack(tmp, sim_args=sim_args, workers=workers, web_threads=4) as env:
            doc_ids = [common.upload(env.client, pdf) for pdf in pdfs]
            time.sleep(3)  # the cluster is up and polling
            started = datetime.now().astimezone()
            t0 = time.monotonic()
            run_ids = [common.extract(env.client, doc_id) for doc_id in doc_ids]
            post_s = time.monotonic() - t0
            finals = common.wait_runs(env.client, run_ids, timeout=runs * latency * 3 + 120)
            generates = len(env.sim.requests(operation="generate"))
    bad = [f for f in finals.values() if f["status"] != "succeeded"]
    if bad:
        raise RuntimeError(f"{len(bad)} runs did not succeed: {bad[0].get('error')}")
    last = max(datetime.fromisoformat(f["timings"]["finished_at"]) for f in finals.values())
    elapsed = (last - started).total_seconds()
    achieved = runs * 60 / elapsed
    ideal = workers * 60 / latency
    ratio = achieved / ideal
    ok = ratio >= TARGET
    print(f"B1 pipeline ({runs} runs, {workers} workers, generate latency {latency:g} s)")
    print(f"  {runs} extraction requests accepted in {post_s:.1f} s; {generates} generate calls")
    print(f"  last run finished after {elapsed:.1f} s (ideal {runs * latency / workers:.1f} s)")
    print(
        f"  {achieved:.1f} runs/min vs ideal {ideal:.1f}: efficiency {ratio:.3f} "
        f"(target >= {TARGET}: {common.verdict(ok)})"
    )
    return ok


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    args += [200, 4, 2.0][len(args) :]
    main(int(args[0]), int(args[1]), args[2])
