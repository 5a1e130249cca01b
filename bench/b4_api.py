"""B4 API latency: GET /api/extractions/?page_size=50 over 100,000 runs, against a trivial endpoint.

    .venv/bin/python bench/b4_api.py [RUNS] [SECONDS]      (default 100000 runs, 5 s per round)

PostgreSQL bench database, 100,000 runs of one user (one SQL statement), gunicorn (2 sync
workers) on loopback, Debian's `wrk` with 4 connections (bounded load) in alternating rounds;
the reference is GET /api/profiles/ (authenticated DRF list of two rows, same middleware, auth
and throttling). Also the SQL queries one page costs, on the first page and a deep one.
Target: p50 and p95 <= 2x the reference, constant query count.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys

import common

TARGET = 2.0
ROUNDS = 3
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P50 %d\\nP95 %d\\nP99 %d\\nREQ %d\\nERR %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(url: str, token: str, seconds: int, lua) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c4", f"-d{seconds}s", "-H", f"Authorization: Token {token}", "-s",
         str(lua), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    values = dict(re.findall(r"^(P50|P95|P99|REQ|ERR) (\d+)$", out, re.M))
    return {k: float(v) for k, v in values.items()}


def queries(token: str, path: str) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    # The throttle's cache table (DatabaseCache) is left out: it culls now and then.
    sqls = [q["sql"] for q in ctx.captured_queries if "remorai_cache" not in q["sql"]]
    return len(sqls), sqls


def main(runs: int, seconds: int) -> bool:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench installs it)")
    with common.workdir() as tmp:
        env = common.base_env(tmp)
        common.reset_database(env)
        common.django_setup(env)
        token = common.user_token()
        from django.db import connections

        connections.close_all()
        common.seed_runs(runs)
        lua = tmp / "pct.lua"
        lua.write_text(LUA)
        web, url = common.start_gunicorn(env, tmp, workers=2)
        try:
            target_path = "/api/extractions/?page_size=50"
            for path in ("/api/profiles/", target_path):  # warm up both workers
                wrk(url + path, token, 2, lua)
            # Alternating rounds, so a change in the machine's load hits both sides alike.
            rounds = [
                (wrk(url + "/api/profiles/", token, seconds, lua),
                 wrk(url + target_path, token, seconds, lua))
                for _ in range(ROUNDS)
            ]  # fmt: skip
        finally:
            web.stop()
        first, sqls = queries(token, target_path)
        deep, _ = queries(token, "/api/extractions/?page_size=50&page=150")
    runs_sql = [s for s in sqls if "extraction_extractionrun" in s]
    counts = [s for s in runs_sql if re.search(r"COUNT\(", s, re.I)]
    ref = {k: statistics.median(r[k] for r, _ in rounds) for k in rounds[0][0]}
    ours = {k: statistics.median(o[k] for _, o in rounds) for k in rounds[0][1]}
    ours["ERR"] = sum(o["ERR"] for _, o in rounds)
    p50 = statistics.median(o["P50"] / r["P50"] for r, o in rounds)
    p95 = statistics.median(o["P95"] / r["P95"] for r, o in rounds)
    ok = p50 <= TARGET and p95 <= TARGET and first == deep and not ours["ERR"]
    print(
        f"B4 API latency ({runs:,} runs; wrk 2 threads x 4 connections, {ROUNDS} alternating "
        f"rounds of {seconds} s per endpoint; medians)"
    )
    for name, m in (("GET /api/profiles/ (ref)", ref), (f"GET {target_path}", ours)):
        print(
            f"  {name:<40} p50 {m['P50'] / 1000:6.1f} ms  p95 {m['P95'] / 1000:6.1f} ms  "
            f"{m['REQ'] / seconds:6.1f} req/s  errors {m['ERR']:.0f}"
        )
    rounds_text = ", ".join(f"{o['P50'] / r['P50']:.2f}" for r, o in rounds)
    print(
        f"  ratio p50 {p50:.2f}x  p95 {p95:.2f}x (target <= {TARGET}x); p50 by round {rounds_text}"
    )
    print(
        f"  SQL queries per page (throttle cache aside): first page {first}, page 150 {deep}; "
        f"{len(runs_sql)} of them on runs, the count in it: "
        f"{'… ' + counts[0][counts[0].upper().index('COUNT(') :][:70] + ' …' if counts else '-'}"
    )
    print(f"  verdict: {common.verdict(ok)}")
    return ok


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [100_000, 5][len(args) :]))
