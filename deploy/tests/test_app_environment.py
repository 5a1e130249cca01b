"""The app starts in production mode with exactly the environment the stack gives its tasks.

Each container's Environment and Secrets from the synthesized template (tokens replaced by
sample values) go through docker/entrypoint.sh into Django with the app's own venv (.venv, made
by `make test`): `check --deploy` must pass and the settings must come out as the stack means.
"""

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
from helpers import container

REPO = Path(__file__).resolve().parents[2]
APP_PYTHON = REPO / ".venv" / "bin" / "python"

# What CloudFormation resolves at deploy time, and what ECS injects from Secrets Manager.
SAMPLE_TOKENS = {
    "DB_HOST": "remorai.abc123.eu-west-1.rds.amazonaws.com",
    "DB_PORT": "5432",
    "AWS_STORAGE_BUCKET_NAME": "remorai-documents-abc123",
    "AWS_S3_REGION_NAME": "eu-west-1",
}
SAMPLE_SECRETS = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DB_USER": "remorai",
    "DB_PASSWORD": "generated:p@ss/w?rd",
    "OPENAI_API_KEY": "sk-openai-sample",
    "GEMINI_API_KEY": "gemini-sample",
    "ANTHROPIC_API_KEY": "sk-ant-sample",
    "LITELLM_API_KEY_TOKEN": "tokenFromSecretsManager",
}
PROBE = (
    "import json; from django.conf import settings as s; "
    "d = s.DATABASES['default']; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': d['ENGINE'], 'host': d['HOST'], "
    "'password': d['PASSWORD'], 'ssl': d.get('OPTIONS', {}).get('sslmode'), "
    "'storage': s.STORAGES['default']['BACKEND'], 'proxy': s.LITELLM_BASE_URL, "
    "'proxy_key': s.LITELLM_API_KEY, 'openai': s.OPENAI_API_KEY, "
    "'metrics': s.QUEUE_METRICS_ENABLED}))"
)


def task_environment(resources, prefix: str) -> dict[str, str]:
    definition = container(resources, prefix)
    env = {}
    for entry in definition.get("Environment", []):
        value = entry["Value"]
        env[entry["Name"]] = value if isinstance(value, str) else SAMPLE_TOKENS[entry["Name"]]
    for entry in definition.get("Secrets", []):
        env[entry["Name"]] = SAMPLE_SECRETS[entry["Name"]]
    return env


def run_app(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    if not APP_PYTHON.exists():
        message = f"{APP_PYTHON} missing: run `make venv` (the app's venv) first"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    full_env = {
        "PATH": f"{APP_PYTHON.parent}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(REPO)),
        **env,
    }
    return subprocess.run(
        ["sh", str(REPO / "docker" / "entrypoint.sh"), "manage", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("prefix", ["WebTask", "WorkerTask", "MigrateTask"])
def test_check_deploy_passes_with_the_task_environment(resources, prefix):
    result = run_app(
        task_environment(resources, prefix), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("prefix", ["WebTask", "WorkerTask"])
def test_settings_come_out_as_the_stack_means(resources, prefix):
    result = run_app(task_environment(resources, prefix), "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert settings == {
        "debug": False,
        "engine": "django.db.backends.postgresql",
        "host": SAMPLE_TOKENS["DB_HOST"],
        "password": SAMPLE_SECRETS["DB_PASSWORD"],
        "ssl": "require",
        "storage": "storages.backends.s3.S3Storage",
        "proxy": "http://litellm.remorai.internal:4000/litellm",
        "proxy_key": "sk-tokenFromSecretsManager",
        "openai": SAMPLE_SECRETS["OPENAI_API_KEY"],
        "metrics": prefix == "WorkerTask",
    }
