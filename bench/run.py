"""Run the benchmarks: `make bench` (all) or `make bench B=b3` / `B="b1 b4"`.

Each benchmark is a script of its own (bench/b*_*.py) run in a fresh process; this prints their
output and a summary line each. Needs PostgreSQL at BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/remorai_bench, dropped and re-created) and, for B4, Debian's
`wrk` (installed with apt-get when missing and running as root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {
    "b1": "b1_pipeline.py",
    "b2": "b2_memory.py",
    "b3": "b3_bytes.py",
    "b4": "b4_api.py",
    "b5": "b5_bulk.py",
    "b6": "b6_client.py",
    "b7": "b7_batch.py",
    "b7c": "b7_collect.py",
}


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SystemExit("B4 needs wrk: sudo apt-get install -y wrk")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)


def main(names: list[str]) -> int:
    names = [n.lower() for n in names] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown}; choose from {', '.join(BENCHES)}")
    if "b4" in names:
        ensure_wrk()
    summary = []
    for name in names:
        print(f"\n=== {name.upper()} ({BENCHES[name]}) ===", flush=True)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(HERE / BENCHES[name])], check=False)
        summary.append((name, proc.returncode, time.monotonic() - started))
    print("\n=== summary ===")
    for name, code, seconds in summary:
        print(f"  {name.upper()}: {'ran' if code == 0 else f'FAILED ({code})'} in {seconds:.0f} s")
    return max(code for _, code, _ in summary)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
