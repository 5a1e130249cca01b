"""`python manage.py devserver`: the whole service on a laptop — web, worker and simulator.

Starts three processes and stops all three on Ctrl-C (or when one of them dies):
- the provider simulator (`runsimulator`), unless every provider has a real key;
- the django-q2 cluster (`qcluster`): the worker that runs extractions;
- the web server (`runserver`).
A provider without a configured key is pointed at the simulator (base URL + a fake key), so a
first upload gets a simulated extraction within seconds — labelled `simulated` in the API and the
admin. The LiteLLM proxy route is used only when LITELLM_BASE_URL is set.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remorai import devstate

MANAGE = Path(settings.BASE_DIR) / "manage.py"
PROVIDERS = {
    # provider: (key variable, base URL variable, simulator path)
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "/openai/v1"),
    "gemini": ("GEMINI_API_KEY", "GEMINI_BASE_URL", "/gemini"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "/anthropic"),
}
SIMULATED_KEY = "simulated-not-a-real-key"


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def address_in_use(addrport: str) -> bool:
    """Whether runserver could not listen on `addrport` ("host:port" or a port)."""
    host, _, port = addrport.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does
        try:
            sock.bind((host, int(port)))
        except OSError:
            return True
    return False


def simulated_environment(environ: dict, simulator_url: str) -> tuple[dict, list[str]]:
    """The children's environment: providers without a real key go to the simulator."""
    env = dict(environ)
    simulated = []
    has_secrets = bool(environ.get("LLM_SECRETS_ID"))
    for provider, (key_var, url_var, path) in PROVIDERS.items():
        if environ.get(key_var) or has_secrets:
            continue
        env[key_var] = SIMULATED_KEY
        env[url_var] = simulator_url + path
        simulated.append(provider)
    return env, simulated


class Command(BaseCommand):
    help = "Run the web server, the queue worker and the provider simulator; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--simulator-port", type=int, default=0, help="default: a free port")
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="never start the simulator (every provider needs a real key)",
        )

    def handle(self, *args, **options):
        if address_in_use(options["addrport"]):  # before anything starts
            raise CommandError(
                f"{options['addrport']} is already in use (another `make run`?): stop it, or "
                "choose another address: `make run RUN_ADDR=127.0.0.1:8001` (or `manage.py "
                "devserver 127.0.0.1:8001`)."
            )
        self.children: list[tuple[str, subprocess.Popen]] = []
        # Ctrl-C even when started with SIGINT ignored (a background job of a script).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, self._on_sigterm)
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "remorai.settings")
        try:
            if not options["no_simulator"]:
                env = self._start_simulator(env, options["simulator_port"])
            if not env.get("LITELLM_BASE_URL"):
                self.stdout.write("LiteLLM proxy: not configured (LITELLM_BASE_URL unset).")
            self._start("worker", ["qcluster"], env)
            self._start("web", ["runserver", options["addrport"], "--noreload"], env)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Remorai at http://{options['addrport']}/ (API docs /api/docs/, admin "
                    "/admin/). Ctrl-C stops everything."
                )
            )
            self._watch()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop_all()

    def _start_simulator(self, env: dict, port: int) -> dict:
        host = "127.0.0.1"
        port = port or free_port(host)
        url = f"http://{host}:{port}"
        env, simulated = simulated_environment(env, url)
        if not simulated:
            self.stdout.write("Every provider has a key: no simulator.")
            return env
        self._start("simulator", ["runsimulator", "--host", host, "--port", str(port)], env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(url + "/_control/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise CommandError(f"The simulator did not answer at {url}.")
        self.stdout.write(
            self.style.WARNING(
                f"Simulated providers ({', '.join(simulated)}) at {url}: answers are generated "
                "from the PDF's text, not by a model, and marked simulated."
            )
        )
        given = {
            name: env[name]
            for provider in simulated
            for name in PROVIDERS[provider][:2]  # its key and base URL variables
        }
        state = devstate.write_state(simulator_url=url, environment=given, environ=env)
        self.stdout.write(f"Other manage.py commands in this folder use it too ({state}).")
        return env

    def _start(self, name: str, argv: list[str], env: dict) -> None:
        # Own process group: a terminal's Ctrl-C reaches only this process, which then stops
        # the children in order (SIGTERM), instead of all of them racing at once.
        process = subprocess.Popen([sys.executable, str(MANAGE), *argv], env=env, process_group=0)
        self.children.append((name, process))

    def _check_alive(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise CommandError(f"The {name} process exited (status {process.returncode}).")

    def _watch(self) -> None:
        while True:
            self._check_alive()
            time.sleep(0.5)

    def _on_sigterm(self, signum, frame):
        raise KeyboardInterrupt

    def _stop_all(self) -> None:
        devstate.remove_state()
        for _, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()  # SIGTERM: each of the three stops cleanly on it
        deadline = time.monotonic() + 10
        for name, process in reversed(self.children):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} process did not stop; killing it.")
                process.kill()
                process.wait()
