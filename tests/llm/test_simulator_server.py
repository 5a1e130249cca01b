"""The simulator as a server: a subprocess via runsimulator, streamed big uploads (chunked and
multi-request Gemini), concurrency, keep-alive, SSE streaming and the control client."""

import base64
import hashlib
import json
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from llm.simulator.testing import start_process
from tests.llm.test_simulator import (
    ANTHROPIC_AUTH,
    AWS,
    GEMINI_AUTH,
    OPENAI_AUTH,
    SCHEMA,
    openai_chat,
    openai_upload,
)

MIB = 1024 * 1024


def test_runsimulator_subprocess_serves_and_stops():
    sim = start_process(extra_args=["--latency", "generate=0.3"])
    try:
        assert sim.health()["simulator"] == "remorai"
        with httpx.Client(timeout=10) as http:
            uploaded = openai_upload(http, sim)
            part = {
                "type": "file",
                "file": {"file_id": uploaded["id"], "format": "application/pdf"},
            }
            started = time.monotonic()
            response = http.post(
                sim.openai_base_url + "/chat/completions",
                headers=OPENAI_AUTH,
                json=openai_chat(part),
            )
            assert response.status_code == 200
            assert time.monotonic() - started >= 0.3
            assert [e["operation"] for e in sim.requests()] == ["upload", "generate"]
            sim.reset()  # the command's --latency is the server's baseline: it stays
            uploaded = openai_upload(http, sim)
            part["file"]["file_id"] = uploaded["id"]
            started = time.monotonic()
            response = http.post(
                sim.openai_base_url + "/chat/completions",
                headers=OPENAI_AUTH,
                json=openai_chat(part),
            )
            assert response.status_code == 200
            assert time.monotonic() - started >= 0.3
    finally:
        sim.stop()
    assert sim.process.returncode is not None
    with pytest.raises(httpx.TransportError):
        httpx.get(sim.url + "/_control/health", timeout=1)


def test_runsimulator_rejects_a_bad_latency(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="SECONDS"):
        call_command("runsimulator", "--port", "0", "--latency", "slow")
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command("runsimulator", "--port", "0", "--chaos-rate", "2")


def test_runsimulator_chaos_option():
    sim = start_process(extra_args=["--chaos-rate", "1", "--chaos-seed", "4"])
    try:
        with httpx.Client(timeout=10) as http:
            statuses = set()
            for _ in range(6):
                try:
                    response = http.post(
                        sim.gemini_base_url + "/models/gemini-2.5-flash:generateContent",
                        headers=GEMINI_AUTH,
                        json={"contents": [{"parts": [{"text": "hi"}]}]},
                    )
                    statuses.add(response.status_code)
                except httpx.TransportError:
                    statuses.add("dropped")
        assert statuses - {200}  # errors or dropped connections
        entries = sim.requests(operation="generate")
        assert len(entries) == 6 and all(entry["fault"] for entry in entries)
    finally:
        sim.stop()


def _big_chunks(total: int, chunk: int = MIB):
    block = os.urandom(chunk)
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


def test_chunked_multipart_upload_streams_to_disk(simulator):
    """A 64 MiB upload with no Content-Length (chunked), built by hand as multipart."""
    boundary = "simboundary123"
    total = 64 * MIB
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
            f'user_data\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        yield from _big_chunks(total)
        yield f"\r\n--{boundary}--\r\n".encode()

    with httpx.Client(timeout=60) as http:
        response = http.post(
            simulator.openai_base_url + "/files",
            headers={**OPENAI_AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=body(),
        )
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == total
    entry = simulator.requests(operation="upload")[0]
    assert entry["bytes_in"] > total
    assert simulator.files()[0]["bytes"] == total
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert growth_mib < 32, f"peak memory grew {growth_mib:.0f} MiB for a 64 MiB upload"


def test_gemini_upload_in_several_chunks_like_google_genai(simulator):
    data = AWS.read_bytes()
    third = len(data) // 3
    with httpx.Client(timeout=30) as http:
        start = http.post(
            simulator.gemini_base_url + "/upload/v1/files",
            headers={
                **GEMINI_AUTH,
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": str(len(data)),
                "X-Goog-Upload-Header-Content-Type": "application/pdf",
            },
            json={"file": {"displayName": "aws.pdf", "mimeType": "application/pdf"}},
        )
        url = start.headers["x-goog-upload-url"]
        offsets = [0, third, 2 * third]
        for number, offset in enumerate(offsets):
            last = number == len(offsets) - 1
            piece = data[offset:] if last else data[offset : offset + third]
            response = http.post(
                url,
                headers={
                    **GEMINI_AUTH,
                    "X-Goog-Upload-Command": "upload, finalize" if last else "upload",
                    "X-Goog-Upload-Offset": str(offset),
                },
                content=piece,
            )
            assert response.status_code == 200
            assert response.headers["x-goog-upload-status"] == ("final" if last else "active")
        uploaded = response.json()["file"]
        assert uploaded["sizeBytes"] == str(len(data)) and uploaded["displayName"] == "aws.pdf"
        digest = base64.b64decode(uploaded["sha256Hash"]).decode()
        assert digest == hashlib.sha256(data).hexdigest()
        stale = http.post(
            url,
            headers={**GEMINI_AUTH, "X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"},
            content=b"x",
        )
        assert stale.status_code == 404


def test_concurrent_generations_overlap(simulator):
    # The server's own record of each call (logged when it answers, with its duration) gives
    # when it was being served: served concurrently, the 16 calls' intervals overlap; served one
    # after another they would not. No wall-clock bound: a loaded machine slows both alike.
    simulator.latency(2.0, operation="generate")
    with httpx.Client(timeout=60) as http:
        file_id = openai_upload(http, simulator)["id"]
    part = {"type": "file", "file": {"file_id": file_id, "format": "application/pdf"}}

    def one(_):
        with httpx.Client(timeout=60) as client:
            return client.post(
                simulator.openai_base_url + "/chat/completions",
                headers=OPENAI_AUTH,
                json=openai_chat(part),
            ).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(one, range(16)))
    assert statuses == [200] * 16
    served = [
        (entry["time"] - entry["duration_ms"] / 1000, entry["time"])
        for entry in simulator.requests(operation="generate")
    ]
    most_at_once = max(sum(start <= t < end for start, end in served) for t, _ in served)
    assert most_at_once >= 8, served


def test_keep_alive_reuses_one_connection(simulator):
    with httpx.Client(timeout=10) as http:
        openai_upload(http, simulator)
        for _ in range(3):
            assert http.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH).is_success
        # an error answer keeps the connection usable too
        assert (
            http.get(
                simulator.openai_base_url + "/files/file-nope", headers=OPENAI_AUTH
            ).status_code
            == 404
        )
        assert (
            http.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH).status_code == 200
        )
    assert len({entry["client_port"] for entry in simulator.requests()}) == 1


def test_openai_stream_is_server_sent_events(simulator):
    with httpx.Client(timeout=10) as http:
        file_id = openai_upload(http, simulator)["id"]
        payload = openai_chat({"type": "file", "file": {"file_id": file_id}})
        payload |= {"stream": True, "stream_options": {"include_usage": True}}
        with http.stream(
            "POST",
            simulator.openai_base_url + "/chat/completions",
            headers=OPENAI_AUTH,
            json=payload,
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert json.loads(text)["invoice_number"] == "42183017"
    assert chunks[-1]["usage"]["prompt_tokens"] > 0


def test_anthropic_stream_events(simulator):
    payload = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hello"}],
    }
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            simulator.anthropic_base_url + "/v1/messages",
            headers=ANTHROPIC_AUTH,
            json=payload,
        ) as response,
    ):
        names = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "content_block_delta" in names


def test_inline_documents_are_read(simulator):
    import base64

    data = base64.b64encode(AWS.read_bytes()).decode()
    with httpx.Client(timeout=10) as http:
        openai = http.post(
            simulator.openai_base_url + "/chat/completions",
            headers=OPENAI_AUTH,
            json=openai_chat(
                {
                    "type": "file",
                    "file": {
                        "file_data": f"data:application/pdf;base64,{data}",
                        "filename": "aws.pdf",
                    },
                }
            ),
        )
        gemini = http.post(
            simulator.gemini_base_url + "/v1beta/models/gemini-2.5-flash:generateContent",
            headers=GEMINI_AUTH,
            json={
                "contents": [
                    {"parts": [{"inline_data": {"mime_type": "application/pdf", "data": data}}]}
                ],
                "generation_config": {
                    "response_mime_type": "application/json",
                    "response_schema": SCHEMA,
                },
            },
        )
        anthropic = http.post(
            simulator.anthropic_base_url + "/v1/messages",
            headers=ANTHROPIC_AUTH,
            json={
                "model": "claude-sonnet-4-5",
                "max_tokens": 100,
                "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {
                                    "type": "base64",
                                    "media_type": "application/pdf",
                                    "data": data,
                                },
                            }
                        ],
                    }
                ],
            },
        )
    answers = [
        openai.json()["choices"][0]["message"]["content"],
        gemini.json()["candidates"][0]["content"]["parts"][0]["text"],
        anthropic.json()["content"][0]["text"],
    ]
    assert [json.loads(a)["invoice_number"] for a in answers] == ["42183017"] * 3


def test_text_answer_without_schema_is_labelled(simulator):
    with httpx.Client(timeout=10) as http:
        response = http.post(
            simulator.openai_base_url + "/chat/completions",
            headers=OPENAI_AUTH,
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]},
        )
    assert response.json()["choices"][0]["message"]["content"].startswith("[simulated by remorai]")


def test_reset_clears_files_and_log_between_tests(simulator):
    assert simulator.requests() == [] and simulator.files() == []
    assert simulator.faults()["faults"] == []


def test_reset_cuts_short_a_delayed_call_and_keeps_it_out_of_the_log(simulator):
    simulator.fault("delay", provider="openai", operation="list", delay=30)
    outcome = {}

    def slow_call():
        started = time.monotonic()
        try:
            with httpx.Client(timeout=20) as http:
                outcome["status"] = http.get(
                    simulator.openai_base_url + "/files", headers=OPENAI_AUTH
                ).status_code
        except httpx.TransportError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=slow_call)
    worker.start()
    time.sleep(0.3)
    simulator.reset()
    worker.join(10)
    assert "error" in outcome and outcome["seconds"] < 5
    assert simulator.requests() == []


def test_gemini_stream_generate_content(simulator):
    url = simulator.gemini_base_url + "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    payload = {"contents": [{"parts": [{"text": "hello"}]}]}
    with httpx.Client(timeout=10) as http:
        sse = http.post(url + "?alt=sse", headers=GEMINI_AUTH, json=payload)
        plain = http.post(url, headers=GEMINI_AUTH, json=payload)
    assert sse.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in sse.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert plain.json()[0]["candidates"][0]["content"]["parts"][0]["text"].startswith(
        "[simulated by remorai]"
    )


def test_wait_for_requests(simulator):
    def later():
        time.sleep(0.3)
        with httpx.Client(timeout=10) as http:
            http.get(simulator.openai_base_url + "/files", headers=OPENAI_AUTH)

    threading.Thread(target=later).start()
    assert simulator.wait_for_requests(1, timeout=5, operation="list")[0]["status"] == 200
    with pytest.raises(TimeoutError):
        simulator.wait_for_requests(1, timeout=0.2, operation="delete")
