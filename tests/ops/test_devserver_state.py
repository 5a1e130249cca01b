"""Commands run beside `make run` (another terminal) see the simulator it started, or say why
not: manage.py reads VAR_DIR/devserver.json (remorai/devstate.py). Real processes throughout."""

import json
import signal
import socket
import subprocess
import time

import pytest

from remorai import devstate


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def simulated_environment(simulator) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "simulated-not-a-real-key",
        "OPENAI_BASE_URL": simulator.openai_base_url,
        "GEMINI_API_KEY": "simulated-not-a-real-key",
        "GEMINI_BASE_URL": simulator.gemini_base_url,
        "ANTHROPIC_API_KEY": "simulated-not-a-real-key",
        "ANTHROPIC_BASE_URL": simulator.anthropic_base_url,
    }


@pytest.fixture
def live_pid():
    """A process standing in for a running devserver."""
    process = subprocess.Popen(["sleep", "120"])
    yield process.pid
    process.kill()
    process.wait()


def write_state(cli, pid, environment, url="http://127.0.0.1:9"):
    cli.var_dir.mkdir(parents=True, exist_ok=True)
    state = {"pid": pid, "simulator_url": url, "environment": environment}
    (cli.var_dir / "devserver.json").write_text(json.dumps(state))


def test_llm_check_beside_a_running_devserver_uses_its_simulator(cli, simulator, live_pid):
    write_state(cli, live_pid, simulated_environment(simulator), simulator.url)
    result = cli.run("llm_check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no OPENAI_API_KEY" not in result.stdout
    assert f"Using the simulator of the running `make run` (pid {live_pid})" in result.stdout
    assert "routes can serve" in result.stdout


def test_llm_check_with_no_devserver_says_why_no_provider_is_there(cli):
    result = cli.run("llm_check")
    assert result.returncode == 1
    assert "no OPENAI_API_KEY" in result.stdout
    assert "No `make run` (manage.py devserver) is running from this folder" in result.stdout


def test_a_file_left_by_a_killed_devserver_is_ignored_and_said(cli, simulator):
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_state(cli, gone.pid, simulated_environment(simulator), simulator.url)
    result = cli.run("llm_check")
    assert result.returncode == 1
    assert f"left by a devserver that is gone (pid {gone.pid})" in result.stdout


def test_a_shells_own_key_and_debug_off_win_over_the_devserver(tmp_path, simulator, live_pid):
    environ = {"VAR_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-own"}
    (tmp_path / "devserver.json").write_text(
        json.dumps({"pid": live_pid, "environment": simulated_environment(simulator)})
    )
    adopted = devstate.adopt_devserver_environment(["manage.py", "shell"], environ)
    assert environ["OPENAI_API_KEY"] == "sk-own" and "OPENAI_BASE_URL" not in environ
    assert sorted(adopted) == [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
        "GEMINI_API_KEY",
        "GEMINI_BASE_URL",
    ]
    off = {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "false"}
    assert devstate.adopt_devserver_environment(["manage.py", "shell"], off) == []
    other = {"VAR_DIR": str(tmp_path)}
    assert devstate.adopt_devserver_environment(["manage.py", "devserver"], other) == []


@pytest.mark.qcluster  # devserver starts a real django-q2 cluster (and runserver, simulator)
def test_devserver_announces_its_simulator_and_withdraws_it_when_stopped(cli):
    port = free_port()
    devserver = cli.popen(
        "devserver",
        f"127.0.0.1:{port}",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state = cli.var_dir / "devserver.json"
    try:
        deadline = time.monotonic() + 120
        while not state.exists():
            assert devserver.poll() is None, devserver.stdout.read().decode()
            assert time.monotonic() < deadline, "devserver.json never written"
            time.sleep(0.5)
        assert state.stat().st_mode & 0o777 == 0o600
        assert json.loads(state.read_text())["pid"] == devserver.pid
        result = cli.run("llm_check")
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        devserver.send_signal(signal.SIGINT)
        devserver.wait(60)
    assert not state.exists()
    # the banner names pages that exist (/api/ itself is a 404: it names the API docs)
    banner = devserver.stdout.read().decode()
    assert f"Remorai at http://127.0.0.1:{port}/ (API docs /api/docs/, admin /admin/)" in banner


def test_devserver_on_a_taken_address_says_so_before_starting_anything(monkeypatch):
    """A second `make run` (or anything on port 8000) used to start the simulator and the
    worker, print 'Remorai at http://…' and only then fail in runserver."""
    from django.core.management import CommandError, call_command

    from extraction.management.commands import devserver

    def started(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(devserver.Command, "_start_simulator", started)
    monkeypatch.setattr(devserver.Command, "_start", started)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addrport = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(CommandError, match="is already in use") as refused:
            call_command("devserver", addrport)
    assert f"{addrport} is already in use" in str(refused.value)
    assert "make run RUN_ADDR=127.0.0.1:8001" in str(refused.value)
