"""Test helpers: start and read the receiver process (tests/extraction/webhook_receiver.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

RECEIVER = Path(__file__).with_name("webhook_receiver.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A receiver process on 127.0.0.1; `.records()` are the requests it got."""

    def __init__(self, tmp_path: Path, secrets: list[str], *, port: int = 0, **options):
        self.secrets_file = tmp_path / f"secrets-{time.monotonic_ns()}"
        self.log_file = tmp_path / f"receiver-{time.monotonic_ns()}.jsonl"
        self.set_secrets(secrets)
        self.log_file.touch()
        argv = [sys.executable, str(RECEIVER), "--port", str(port)]
        argv += ["--secrets", str(self.secrets_file), "--log", str(self.log_file)]
        for name, value in options.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    def set_secrets(self, secrets: list[str]) -> None:
        self.secrets_file.write_text("\n".join(secrets) + "\n")

    def records(self) -> list[dict]:
        lines = self.log_file.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def arrivals(self) -> list[str]:
        """Requests that arrived and were held (--hang-first), before any answer."""
        path = Path(f"{self.log_file}.arrivals")
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)
