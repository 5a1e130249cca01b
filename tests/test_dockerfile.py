"""The image recipe: multi-stage, non-root, static files at build, and a health check that works."""

import json
import os
import re
import socket
import subprocess
import sys
import time
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


@pytest.fixture
def plays():
    """plays("gunicorn") -> the pid of a stand-in process whose command line names that role;
    with children=True it has a child process (a cluster's workers)."""
    started = []

    def start(role: str, *, children: bool = False) -> int:
        body = "import subprocess, time\n"
        if children:
            body += "subprocess.Popen(['sleep', '60'])\n"
        body += "time.sleep(60)\n"
        process = subprocess.Popen([sys.executable, "-c", body, role])
        started.append(process)
        time.sleep(0.3 if children else 0)  # the child exists before the check
        return process.pid

    yield start
    for process in started:
        process.kill()
        process.wait()


def run_healthcheck(*, port: int, allowed_hosts: str, pid: int) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PORT": str(port),
        "DJANGO_ALLOWED_HOSTS": allowed_hosts,
        "HEALTHCHECK_PID": str(pid),
    }
    command = [arg.replace("/app/", f"{REPO_ROOT}/") for arg in healthcheck_command()[1:]]
    return subprocess.run(
        [sys.executable, *command], env=env, capture_output=True, text=True, timeout=30
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
@pytest.mark.parametrize("allowed_hosts", ["localhost", ".localhost,remorai.example.com", "*", ""])
def test_healthcheck_passes_against_the_running_app(live_server, allowed_hosts, settings, plays):
    settings.ALLOWED_HOSTS = [h for h in allowed_hosts.split(",") if h] or ["localhost"]
    web = plays("gunicorn")
    result = run_healthcheck(port=live_server.thread.port, allowed_hosts=allowed_hosts, pid=web)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_healthcheck_fails_when_the_app_refuses_its_host(live_server, settings, plays):
    settings.ALLOWED_HOSTS = ["remorai.example.com"]
    web, port = plays("gunicorn"), live_server.thread.port
    assert run_healthcheck(port=port, allowed_hosts="other.example", pid=web).returncode
    ok = run_healthcheck(port=port, allowed_hosts="remorai.example.com", pid=web)
    assert ok.returncode == 0, ok.stderr


def test_healthcheck_fails_when_nothing_answers(plays):
    web = plays("gunicorn")
    assert run_healthcheck(port=closed_port(), allowed_hosts="localhost", pid=web).returncode


def test_a_worker_with_its_processes_is_healthy_without_any_web_port(plays):
    worker = plays("qcluster", children=True)
    result = run_healthcheck(port=closed_port(), allowed_hosts="localhost", pid=worker)
    assert result.returncode == 0, result.stderr


def test_a_worker_whose_processes_are_gone_is_unhealthy(plays):
    worker = plays("qcluster")
    assert run_healthcheck(port=closed_port(), allowed_hosts="localhost", pid=worker).returncode


def test_a_one_off_command_is_healthy_while_it_runs(plays):
    migrate = plays("migrate")
    result = run_healthcheck(port=closed_port(), allowed_hosts="localhost", pid=migrate)
    assert result.returncode == 0, result.stderr


def test_the_product_runs_without_the_simulator_which_the_image_leaves_out():
    """#13.6: llm/simulator is in .dockerignore; the web, the worker's tasks, the admin and the
    commands must import and check without it (runsimulator then says it is missing)."""
    assert "llm/simulator" in (REPO_ROOT / ".dockerignore").read_text().split()
    script = """
import sys
sys.modules["llm.simulator"] = None  # as if the package were not there: importing it fails
import django
django.setup()
from django.core.management import call_command
from django.core.management.base import CommandError
call_command("check")
import importlib, pkgutil
import extraction, llm, remorai
for package in (extraction, llm, remorai):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.startswith(("llm.simulator", "remorai.settings_")):
            importlib.import_module(module.name)
try:
    call_command("runsimulator", "--port", "0")
except CommandError as exc:
    print("REFUSED:", exc)
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "remorai.settings_test"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REFUSED: The provider simulator is not part of this installation" in result.stdout
