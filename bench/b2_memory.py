"""B2 memory: a generated 200 MiB PDF uploaded through the API and then sent to the provider.

    .venv/bin/python bench/b2_memory.py [MIB]        (default 200)

Real processes: gunicorn (1 sync worker) and `qcluster` (1 worker) on the PostgreSQL bench
database, Gemini at the simulator (MAX_UPLOAD_BYTES and the model's max_bytes raised for the
bench). Each process's peak RSS is reset (/proc/<pid>/clear_refs "5") before a step and read
(VmHWM) after it; the figure is the peak growth over the RSS at the reset, the largest over the
processes of each side (gunicorn master + worker; qcluster sentinel, pusher, monitor, workers).
Steps: the upload (web), the extraction with transport "file" (worker: upload to Gemini, then a
reference), the extraction with our streamed base64 transport "inline" (worker), and, as the
reference, the naive base64-inline approach (file read, encoded and serialised whole, then
posted) in a process of its own. Target: <= 32 MiB each for ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import common

TARGET_MIB = 32.0

NAIVE = textwrap.dedent(
    """
    import base64, json, resource, sys, httpx
    path, url = sys.argv[1], sys.argv[2]
    client = httpx.Client(timeout=600)
    client.get(url + "/_control/health")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = base64.b64encode(open(path, "rb").read()).decode()
    body = {"contents": [{"parts": [{"inline_data": {"mime_type": "application/pdf",
             "data": data}}, {"text": "Extract."}]}]}
    response = client.post(url + "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
                           content=json.dumps(body), headers={"x-goog-api-key": "bench",
                           "content-type": "application/json"})
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(response.status_code, (after - before) / 1024)
    """
)


def side(pids: list[int], growth: dict[int, float]) -> tuple[float, str]:
    pid = max(pids, key=lambda p: growth.get(p, 0.0))
    return growth.get(pid, 0.0), common.cmdline(pid)


def measure(tmp, pdf, mib: int, route: str) -> list:
    """The steps' peak growth with the worker on `route`: "proxy" (our httpx gateway, the
    simulator's OpenAI-compatible endpoint standing in for LiteLLM) or "direct" (google-genai)."""
    limit = str((mib + 50) * common.MiB)
    models = {"gemini/gemini-2.5-flash": {"max_bytes": (2 * mib + 50) * common.MiB}}
    extra = {"MAX_UPLOAD_BYTES": limit, "LLM_MODELS_JSON": json.dumps(models)}
    rows = []
    with common.stack(tmp, workers=1, proxy=route == "proxy", **extra) as env:

        def extraction(doc_id: str, transport: str) -> None:
            run_id = common.extract(env.client, doc_id, transport=transport)
            final = common.wait_runs(env.client, [run_id], timeout=600)[run_id]
            if final["status"] != "succeeded":
                raise RuntimeError(f"{route} {transport}: {final.get('error')}")
            if final["route"] != route:
                raise RuntimeError(f"expected route {route}, the run took {final['route']}")

        # Warm-up: the first extraction of each transport imports the SDKs and builds clients
        # in the worker (tens of MiB, once per process); measured is the steady state.
        small = common.upload(env.client, common.make_pdf(tmp / "warm.pdf", label="warm"))
        for transport in ("file", "inline"):
            extraction(small, transport)
        web = common.descendants(env.web.pid)
        worker = common.descendants(env.worker.pid)
        if len(worker) < 3:
            raise RuntimeError(f"the cluster has {len(worker)} processes: {worker}")

        def step(name, action):
            before = common.reset_peaks(web + worker)
            action()
            growth = common.peak_growth_mib(before)
            rows.append((f"{name} ({route})", side(web, growth), side(worker, growth)))

        doc = {}
        if route == "proxy":
            step("upload through the API", lambda: doc.update(id=common.upload(env.client, pdf)))
        else:
            doc["id"] = common.upload(env.client, pdf)
        for transport in ("file", "inline"):
            step(f"extraction, {transport}", lambda t=transport: extraction(doc["id"], t))
        if route == "proxy":
            naive = subprocess.run(
                [common.PY, "-c", NAIVE, str(pdf), env.sim.url],
                capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            rows.append(("naive base64 inline (ref)", (0.0, ""), (float(naive[1]), naive[0])))
    return rows


def main(mib: int) -> bool:
    # The simulator must take the inline body (base64: 4/3 of the file).
    os.environ["SIMULATOR_MAX_JSON_BYTES"] = str(2 * (mib + 50) * common.MiB)
    with common.workdir() as tmp:
        pdf = common.make_pdf(tmp / "big.pdf", pad_bytes=mib * common.MiB, label="B2")
        size_mib = pdf.stat().st_size / common.MiB
        rows = measure(tmp, pdf, mib, "proxy") + measure(tmp, pdf, mib, "direct")
    print(f"B2 memory ({size_mib:.1f} MiB PDF; peak RSS growth over the RSS at the step's start)")
    print(f"  {'step':<38} {'web MiB':>8} {'worker MiB':>11}  target <= {TARGET_MIB:.0f} MiB")
    naive = next(r for r in rows if r[0].startswith("naive"))[2][0]
    ok = True
    for name, (web_mib, _), (worker_mib, _) in rows:
        if name.startswith("naive"):
            print(f"  {name:<38} {'':>8} {worker_mib:>11.1f}  (reference)")
            continue
        passed = web_mib <= TARGET_MIB and worker_mib <= TARGET_MIB
        ok = ok and passed
        print(
            f"  {name:<38} {web_mib:>8.1f} {worker_mib:>11.1f}  "
            f"{max(web_mib, worker_mib) / naive:.3f} x ref  {common.verdict(passed)}"
        )
    print(f"  all steps within {TARGET_MIB:.0f} MiB: {common.verdict(ok)}")
    return ok


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
