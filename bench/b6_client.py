"""B6 client overhead: LiteLLMProxy.generate vs a raw httpx POST of the same body.

    .venv/bin/python bench/b6_client.py [CALLS]        (default 300 each)

The endpoint is the simulator's OpenAI-compatible /chat/completions with no latency (a process
of its own). Calls alternate (gateway, raw, gateway, …) so both see the same machine load; the
overhead is the difference of the medians. Target: <= 2 ms per call.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import common

TARGET_MS = 2.0
MODEL = "openai/gpt-4o-mini"


def main(calls: int) -> bool:
    with common.workdir() as tmp:
        sim_proc, sim = common.start_simulator(tmp)
        try:
            common.django_setup({"DJANGO_SETTINGS_MODULE": "remorai.settings_test"})
            import httpx

            from llm.gateways.litellm_proxy import LiteLLMProxy
            from llm.types import GenerationRequest

            pdf = common.make_pdf(tmp / "small.pdf", label="B6")
            gateway = LiteLLMProxy(base_url=sim.url + "/openai", api_key="sk-bench-b6")
            remote = gateway.upload(pdf, "small.pdf", "application/pdf", model=MODEL)
            schema = {
                "type": "object",
                "properties": {"invoice_number": {"type": ["string", "null"]}},
                "required": ["invoice_number"],
                "additionalProperties": False,
            }
            request = GenerationRequest(
                model=MODEL, instructions="Extract the invoice number.", schema=schema, file=remote
            )
            body = {
                "model": MODEL,
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "file", "file": {"file_id": remote.id,
                                                      "format": "application/pdf"}},
                            {"type": "text", "text": request.instructions},
                        ],
                    }
                ],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "extraction", "schema": schema, "strict": True},
                },
                "max_tokens": request.max_output_tokens,
            }  # fmt: skip
            raw = httpx.Client(base_url=sim.url + "/openai", timeout=30)
            headers = {"Authorization": "Bearer sk-bench-b6"}

            def call_raw():
                response = raw.post("/v1/chat/completions", json=body, headers=headers)
                response.raise_for_status()
                return response.json()

            for _ in range(20):  # warm up both (connections, imports)
                gateway.generate(request)
                call_raw()
            ours, ref = [], []
            for _ in range(calls):
                started = time.perf_counter()
                generation = gateway.generate(request)
                ours.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                call_raw()
                ref.append((time.perf_counter() - started) * 1000)
            assert generation.simulated and json.loads(generation.text), generation
        finally:
            sim_proc.stop()
    p50_ours, p50_ref = statistics.median(ours), statistics.median(ref)
    overhead = p50_ours - p50_ref
    ok = overhead <= TARGET_MS
    print(f"B6 client overhead ({calls} calls each, simulator latency 0)")
    print(f"  raw httpx POST      p50 {p50_ref:7.2f} ms   mean {statistics.fmean(ref):7.2f} ms")
    print(f"  LiteLLMProxy.generate p50 {p50_ours:5.2f} ms   mean {statistics.fmean(ours):7.2f} ms")
    print(
        f"  overhead p50 {overhead:+.2f} ms/call   ratio {p50_ours / p50_ref:.2f}x raw   "
        f"target <= {TARGET_MS} ms: {common.verdict(ok)}"
    )
    return ok


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
