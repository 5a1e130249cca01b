"""docker/entrypoint.sh with stand-ins for python and gunicorn that record how they were called."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"

STAND_IN = """#!/bin/sh
case "${{1:-}}" in *ecs_task_ips.py) exec {real_python} "$@";; esac
seen="key=${{LITELLM_API_KEY:-}} token=${{LITELLM_API_KEY_TOKEN:-}}"
echo "$(basename "$0") $* | $seen hosts=${{DJANGO_ALLOWED_HOSTS:-}}" >> "$CALLS"
"""


@pytest.fixture
def run_entrypoint(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "gunicorn"):
        stand_in = bin_dir / name
        stand_in.write_text(STAND_IN.format(real_python=sys.executable))
        stand_in.chmod(0o755)
    calls = tmp_path / "calls.log"

    def run(*args, env=None):
        full_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), **(env or {})}
        result = subprocess.run(
            ["sh", str(ENTRYPOINT), *args], env=full_env, capture_output=True, text=True
        )
        lines = calls.read_text().splitlines() if calls.exists() else []
        return result, lines

    return run


def test_web_runs_gunicorn_on_port_8000(run_entrypoint):
    result, calls = run_entrypoint("web")
    assert result.returncode == 0, result.stderr
    assert len(calls) == 1
    assert calls[0].startswith(
        "gunicorn remorai.wsgi:application --config python:remorai.gunicorn_conf "
        "--bind 0.0.0.0:8000 "
    )


def test_worker_syncs_the_metrics_schedule_then_runs_the_cluster(run_entrypoint):
    result, calls = run_entrypoint("worker")
    assert result.returncode == 0, result.stderr
    assert [c.split(" | ")[0] for c in calls] == [
        "python manage.py queue_metrics_schedule",
        "python manage.py qcluster",
    ]


def test_migrate_is_a_one_off_migrate(run_entrypoint):
    result, calls = run_entrypoint("migrate")
    assert result.returncode == 0, result.stderr
    assert [c.split(" | ")[0] for c in calls] == ["python manage.py migrate --noinput"]


def test_manage_passes_any_command_through(run_entrypoint):
    _, calls = run_entrypoint("manage", "createsuperuser", "--noinput")
    assert calls[0].split(" | ")[0] == "python manage.py createsuperuser --noinput"


@pytest.mark.parametrize("args", [(), ("serve",)])
def test_unknown_role_exits_64_with_usage(run_entrypoint, args):
    result, calls = run_entrypoint(*args)
    assert result.returncode == 64
    assert "usage: entrypoint.sh web | worker | migrate" in result.stderr
    assert calls == []


def test_master_key_token_becomes_an_sk_key_and_is_not_passed_on(run_entrypoint):
    _, calls = run_entrypoint("web", env={"LITELLM_API_KEY_TOKEN": "abc123"})
    assert "key=sk-abc123 token= " in calls[0]


def test_an_explicit_api_key_wins_over_the_token(run_entrypoint):
    _, calls = run_entrypoint("web", env={"LITELLM_API_KEY": "sk-x", "LITELLM_API_KEY_TOKEN": "y"})
    assert "key=sk-x " in calls[0]


class _Metadata(BaseHTTPRequestHandler):
    body = {"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.1.23"]}]}

    def do_GET(self):  # noqa: N802 - http.server's name
        payload = json.dumps(self.body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def metadata_endpoint():
    server = HTTPServer(("127.0.0.1", 0), _Metadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v4/container"
    server.shutdown()
    server.server_close()


def test_on_ecs_the_task_ip_joins_allowed_hosts(run_entrypoint, metadata_endpoint):
    _, calls = run_entrypoint(
        "web",
        env={
            "ECS_CONTAINER_METADATA_URI_V4": metadata_endpoint,
            "DJANGO_ALLOWED_HOSTS": "remorai.example.com",
        },
    )
    assert calls[0].endswith("hosts=remorai.example.com,10.0.1.23")


def test_unreachable_metadata_does_not_stop_the_start(run_entrypoint):
    result, calls = run_entrypoint(
        "web",
        env={
            "ECS_CONTAINER_METADATA_URI_V4": "http://127.0.0.1:9/v4/none",
            "DJANGO_ALLOWED_HOSTS": "remorai.example.com",
        },
    )
    assert result.returncode == 0
    assert calls[0].endswith("hosts=remorai.example.com")
    assert "metadata unavailable" in result.stderr
