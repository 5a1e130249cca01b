"""B5 bulk re-extraction: `manage.py reextract` over N documents, wall time and peak RSS.

    .venv/bin/python bench/b5_bulk.py [N ...]       (default 1000 10000)

For each N: a fresh bench database, N documents with one run each, then `reextract --profile
invoice --dry-run` and the real enqueue (runs created and one django-q2 task each put in the ORM
broker; no worker runs). Peak RSS is the child's own (wait4). The reference, in the same run, is
the peak RSS of a bare `manage.py check` (Django loaded, nothing done): flat memory means the
growth over it does not follow N. Target: <= 10 s and flat memory at 10,000.
"""

from __future__ import annotations

import sys

import common

TARGET_SECONDS = 10.0


def main(sizes: list[int]) -> bool:
    rows = []
    with common.workdir() as tmp:
        env = common.base_env(tmp)
        cmd = [common.PY, str(common.MANAGE), "reextract", "--profile", "invoice"]
        for n in sizes:
            common.reset_database(env)
            if n == sizes[0]:
                _, base_rss, _ = common.run_measured([common.PY, str(common.MANAGE), "check"], env)
            common.django_setup(env)
            from django.db import connections

            common.user_token()
            connections.close_all()
            common.seed_runs(n)
            dry_s, dry_rss, _ = common.run_measured([*cmd, "--dry-run"], env)
            real_s, real_rss, out = common.run_measured(cmd, env)
            queued = _count_queued()
            if queued != n:
                raise RuntimeError(f"expected {n} queued tasks, the broker holds {queued}:\n{out}")
            rows.append((n, dry_s, dry_rss, real_s, real_rss))
    print(f"B5 bulk reextract (reference: bare `manage.py check` peak RSS {base_rss:.1f} MiB)")
    print(f"  {'documents':>9}  {'dry s':>6}  {'dry MiB':>8}  {'real s':>7}  {'real MiB':>8}")
    for n, dry_s, dry_rss, real_s, real_rss in rows:
        print(f"  {n:>9,}  {dry_s:>6.2f}  {dry_rss:>8.1f}  {real_s:>7.2f}  {real_rss:>8.1f}")
    n, dry_s, dry_rss, real_s, real_rss = rows[-1]
    small = rows[0]
    growth_small, growth_big = small[4] - base_rss, real_rss - base_rss
    ok_time = max(dry_s, real_s) <= TARGET_SECONDS
    flat = growth_big <= max(2 * growth_small, growth_small + 16)
    print(
        f"  at {n:,}: {max(dry_s, real_s):.2f} s (target <= {TARGET_SECONDS:.0f} s: "
        f"{common.verdict(ok_time)}); RSS over the reference {growth_big:+.1f} MiB vs "
        f"{growth_small:+.1f} MiB at {small[0]:,} (flat: {common.verdict(flat)})"
    )
    return ok_time and flat


def _count_queued() -> int:
    import psycopg

    with psycopg.connect(common.DB_URL) as conn:
        return conn.execute("SELECT count(*) FROM django_q_ormq").fetchone()[0]


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
