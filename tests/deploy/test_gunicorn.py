"""The image's web role as it starts: docker/entrypoint.sh web runs the real gunicorn. No control
socket error whatever $HOME is, and with LOG_FORMAT=json every line it writes is JSON."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web(tmp_path):
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        # A home nobody can write (the image's user cannot write /app): gunicorn >= 25 would
        # try to create $HOME/.gunicorn for its control socket.
        "HOME": "/proc/nonexistent-home",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "remorai.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["sh", str(REPO / "docker" / "entrypoint.sh"), "web"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


def test_gunicorn_starts_without_a_control_socket_and_logs_json_lines(web):
    process, log = web
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert "Control server error" not in "\n".join(lines)
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    loggers = {r["logger"] for r in records}
    assert {"gunicorn.error", "gunicorn.access"} <= loggers
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert any("/healthz" in r["message"] for r in access)
