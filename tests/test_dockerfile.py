"""The image recipe: multi-stage, non-root, static files at build, and a health check that works."""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_multi_stage_slim_non_root_gunicorn_image():
    assert [f.split()[0] for f in instructions("FROM")] == ["python:3.11-slim"] * 2
    assert instructions("USER") == ["remorai"]
    assert instructions("EXPOSE") == ["8000"]
    assert any("collectstatic" in run for run in instructions("RUN"))
    assert json.loads(instructions("ENTRYPOINT")[0]) == ["/app/docker/entrypoint.sh"]
    assert json.loads(instructions("CMD")[0]) == ["web"]
    assert "gunicorn" in (REPO_ROOT / "docker" / "entrypoint.sh").read_text()
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".git", ".env", ".venv", "var"} <= set(ignored)


def healthcheck_command() -> list[str]:
    (healthcheck,) = instructions("HEALTHCHECK")
    return json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())


@pytest.mark.django_db
@pytest.mark.parametrize("allowed_hosts", ["localhost", ".localhost,remorai.example.com", "*", ""])
def test_healthcheck_passes_against_the_running_app(live_server, allowed_hosts, settings):
    settings.ALLOWED_HOSTS = [h for h in allowed_hosts.split(",") if h] or ["localhost"]
    assert healthcheck_command()[:2] == ["python", "-c"]
    result = run_healthcheck(port=live_server.thread.port, allowed_hosts=allowed_hosts)
    assert result.returncode == 0, result.stderr


def run_healthcheck(*, port: int, allowed_hosts: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORT": str(port), "DJANGO_ALLOWED_HOSTS": allowed_hosts}
    return subprocess.run(
        [sys.executable, "-c", healthcheck_command()[2]],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.django_db
def test_healthcheck_fails_when_the_app_refuses_its_host(live_server, settings):
    settings.ALLOWED_HOSTS = ["remorai.example.com"]
    assert run_healthcheck(port=live_server.thread.port, allowed_hosts="other.example").returncode
    ok = run_healthcheck(port=live_server.thread.port, allowed_hosts="remorai.example.com")
    assert ok.returncode == 0, ok.stderr


def test_healthcheck_fails_when_nothing_answers():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_healthcheck(port=port, allowed_hosts="localhost").returncode != 0
