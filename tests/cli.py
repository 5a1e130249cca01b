"""`manage.py` as a user runs it: a real process on its own migrated SQLite database.

The database is migrated once per test session and copied for each test, so a command sees a
fresh installation (seed profiles, schedules) without touching the test database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Variables of the outside world a developer's shell may carry; a CLI test starts without them.
SCRUBBED_PREFIXES = (
    "OPENAI_",
    "GEMINI_",
    "ANTHROPIC_",
    "LITELLM_",
    "LLM_SECRETS",
    "DB_",
    "AWS_",
    "REDIS_URL",
    "VAR_DIR",
    "MEDIA_ROOT",
    "DATABASE_URL",
    "DJANGO_",
)


class Cli:
    def __init__(self, root: Path, database: Path):
        self.root = root
        self.database = database
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "remorai.settings",
                "DJANGO_DEBUG": "true",
                "DATABASE_URL": f"sqlite:///{database}",
                "MEDIA_ROOT": str(root / "media"),
                "VAR_DIR": str(root / "var"),
                "PYTHONUNBUFFERED": "1",
            }
        )

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, str(REPO_ROOT / "manage.py"), *args]

    def run(self, *args: str, env: dict | None = None, timeout: float = 120):
        return subprocess.run(
            self.argv(*args),
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def popen(self, *args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(*args),
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            **kwargs,
        )


@pytest.fixture(scope="session")
def _migrated_cli_database(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-template")
    cli = Cli(root, root / "db.sqlite3")
    result = cli.run("migrate", "--noinput", "-v0")
    assert result.returncode == 0, result.stderr
    return cli.database


@pytest.fixture
def cli(tmp_path, _migrated_cli_database) -> Cli:
    """A fresh installation's `manage.py` (its own SQLite database, var/ and media)."""
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(_migrated_cli_database, database)
    return Cli(tmp_path, database)
