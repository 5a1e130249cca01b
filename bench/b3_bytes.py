"""B3 bytes upstream: 5 extractions of one 10 MiB document, bytes the provider received.

    .venv/bin/python bench/b3_bytes.py [MIB] [RUNS]       (default 10 MiB, 5 runs)

Through the whole service (API -> queue -> worker -> Gemini at the simulator): bytes received by
the simulator (its request log, bytes_in of every call) ÷ the file size, for the file transport
(one upload, then references) and for base64 inline (the document in every request).
Target: file transport <= 1.01.
"""

from __future__ import annotations

import sys

import common

TARGET = 1.01


def run_transport(env, doc_id: str, transport: str, runs: int) -> tuple[int, list[dict]]:
    env.sim.reset(files=False)
    finals = []
    for _ in range(runs):
        run_id = common.extract(env.client, doc_id, transport=transport)
        finals += common.wait_runs(env.client, [run_id], timeout=300).values()
    return env.sim.bytes_received(), finals


def main(mib: int, runs: int) -> bool:
    with common.workdir() as tmp:
        pdf = common.make_pdf(tmp / "ten.pdf", pad_bytes=mib * common.MiB, label="B3")
        size = pdf.stat().st_size
        with common.stack(tmp, workers=1) as env:
            doc_id = common.upload(env.client, pdf)
            ours, finals = run_transport(env, doc_id, "file", runs)
            calls = env.sim.requests()
            inline, finals_inline = run_transport(env, doc_id, "inline", runs)
    statuses = {f["status"] for f in finals + finals_inline}
    if statuses != {"succeeded"}:
        bad = [f.get("error") for f in finals + finals_inline if f["status"] != "succeeded"]
        raise RuntimeError(f"runs did not all succeed: {bad[:3]}")
    uploads = [c for c in calls if c.get("operation") == "upload"]
    ratio, ratio_inline = ours / size, inline / size
    ok = ratio <= TARGET
    print(f"B3 bytes upstream ({runs} extractions of one {size / common.MiB:.1f} MiB PDF)")
    print(
        f"  file transport : {ours:>12,} bytes = {ratio:.4f} x file size "
        f"({len(uploads)} upload call(s), {len(calls) - len(uploads)} other calls)"
    )
    print(f"  base64 inline  : {inline:>12,} bytes = {ratio_inline:.4f} x file size")
    print(
        f"  ours / inline = {ours / inline:.3f}   target file transport <= {TARGET}: "
        f"{common.verdict(ok)}"
    )
    return ok


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [10, 5][len(args) :]))
