"""Settings and health: liveness/readiness, production start-up rules, SQLite under two writers."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from remorai import health

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, *, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def base_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "remorai.settings", "PYTHONPATH": str(REPO_ROOT)})
    env.update(overrides)
    return env


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "remorai.example.com",
}


# --- health ------------------------------------------------------------------------------------


def test_healthz_answers_without_dependencies(client, monkeypatch):
    def broken():
        raise AssertionError("healthz must not check dependencies")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_when_a_check_fails(client, monkeypatch):
    monkeypatch.setitem(health.READINESS_CHECKS, "broken", lambda: (False, {"error": "down"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broken"] == {"ok": False, "error": "down"}


# --- production settings ----------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key():
    result = run_python(
        "import django; django.setup()", env=base_env(**PRODUCTION, DJANGO_SECRET_KEY="")
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_in_production():
    secret = "p" * 20 + os.urandom(32).hex()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=base_env(**PRODUCTION, DJANGO_SECRET_KEY=secret),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_has_a_development_secret_key():
    result = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, bool(settings.SECRET_KEY))",
        env=base_env(DJANGO_DEBUG="true"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_app_tunables_come_from_the_environment_typed_as_their_defaults_or_keep_them(tmp_path):
    code = """
        import django; django.setup()
        from extraction import conf
        from extraction.webhooks import conf as webhooks
        from llm.conf import conf as llm
        print(repr((conf.upload_poll_seconds(), conf.max_attempts(), conf.heartbeat_seconds())))
        print(repr((webhooks.retry_schedule(), webhooks.allow_http(), llm.LLM_BATCH_LIMITS)))
        print(repr((llm.LLM_DEFAULT_FALLBACKS, llm.LLM_RETRY_ATTEMPTS, llm.AWS_SECRETS_REGION)))
    """
    env = base_env(
        VAR_DIR=str(tmp_path),
        EXTRACTION_UPLOAD_POLL_SECONDS="0.1",
        EXTRACTION_MAX_ATTEMPTS="7",
        WEBHOOK_RETRY_SCHEDULE="1,2.5",
        WEBHOOK_ALLOW_HTTP="true",
        LLM_BATCH_LIMITS='{"openai": {"requests": 2, "bytes": 10}}',
        LLM_DEFAULT_FALLBACKS="openai/gpt-4o,gemini/gemini-2.5-flash",
        AWS_DEFAULT_REGION="eu-west-3",
    )
    for unset in ("EXTRACTION_HEARTBEAT_SECONDS", "LLM_RETRY_ATTEMPTS", "AWS_SECRETS_REGION"):
        env.pop(unset, None)
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "(0.1, 7, 5.0)",
        "((1.0, 2.5), True, {'openai': {'requests': 2, 'bytes': 10}})",
        "(['openai/gpt-4o', 'gemini/gemini-2.5-flash'], 3, 'eu-west-3')",
    ]


# --- SQLite: WAL, and two processes writing at once -------------------------------------------


def test_sqlite_default_uses_wal_and_a_busy_timeout(tmp_path):
    result = run_python(
        """
        import django; django.setup()
        from django.db import connection
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            print(cursor.fetchone()[0])
            cursor.execute("PRAGMA busy_timeout")
            print(cursor.fetchone()[0])
        """,
        env=base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'wal.sqlite3'}"),
    )
    assert result.returncode == 0, result.stderr
    mode, timeout_ms = result.stdout.split()
    assert mode == "wal"
    assert int(timeout_ms) >= 5000


WRITER = """
import sys, time
import django; django.setup()
from django.db import connection, transaction

name, rounds = sys.argv[1], int(sys.argv[2])
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS ledger (who TEXT, n INTEGER)")
for i in range(rounds):
    # Read, then write in the same transaction: the pattern that fails with "database is
    # locked" when a reader cannot upgrade its lock (DEFERRED transactions).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM ledger WHERE who = %s", [name])
        seen = cursor.fetchone()[0]
        cursor.execute("INSERT INTO ledger VALUES (%s, %s)", [name, seen + 1])
        time.sleep(0.001)
print("done", name)
"""


def test_web_and_worker_processes_write_concurrently_without_locking(tmp_path):
    database = tmp_path / "shared.sqlite3"
    env = base_env(DATABASE_URL=f"sqlite:///{database}")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    init = run_python(
        "import django; django.setup(); from django.db import connection; "
        "connection.cursor().execute('CREATE TABLE ledger (who TEXT, n INTEGER)')",
        env=env,
    )
    assert init.returncode == 0, init.stderr

    rounds = 100
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), who, str(rounds)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("web", "worker")
    ]
    results = [(*w.communicate(timeout=180), w.returncode) for w in writers]

    for _out, err, code in results:
        assert code == 0, err
        assert "database is locked" not in err
    check = run_python(
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); "
        "c.execute('SELECT who, COUNT(*), MAX(n) FROM ledger GROUP BY who ORDER BY who'); "
        "print(c.fetchall())",
        env=env,
    )
    assert check.stdout.strip() == str([("web", rounds, rounds), ("worker", rounds, rounds)])
