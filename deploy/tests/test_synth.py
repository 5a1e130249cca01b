"""`python app.py` (what `make synth` runs) writes the template; context values are checked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from remorai_deploy.config import DeployConfig

DEPLOY = Path(__file__).resolve().parents[1]


def test_app_writes_the_template_offline(tmp_path):
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    env.pop("CDK_DEFAULT_ACCOUNT", None)
    result = subprocess.run(
        [sys.executable, "app.py", "-c", "litellm_enabled=false"],
        cwd=DEPLOY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "Remorai.template.json").read_text())
    tasks = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    env_names = {
        e["Name"]
        for t in tasks
        for c in t["Properties"]["ContainerDefinitions"]
        for e in c.get("Environment", [])
    }
    assert "SERVER_ROOT_PATH" in env_names
    assert "LITELLM_BASE_URL" not in env_names


def test_app_refuses_a_malformed_context_argument(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py", "-c", "litellm_enabled"],
        cwd=DEPLOY,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "expected -c key=value" in result.stderr


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"litellm_enabled": "maybe"}, "litellm_enabled must be true or false"),
        ({"litellm_memory_mib": "1GiB"}, "litellm_memory_mib must be an integer"),
        ({"log_retention_days": "31"}, "log_retention_days must be one of"),
    ],
)
def test_bad_context_values_fail_loudly(context, message):
    with pytest.raises(ValueError, match=message):
        DeployConfig.from_context(context.get)


def test_context_strings_are_parsed():
    config = DeployConfig.from_context(
        {"litellm_enabled": "False", "worker_count": "3", "migrate_image_tag": ""}.get
    )
    assert config.litellm_enabled is False
    assert config.worker_count == 3
    assert config.effective_migrate_image_tag == config.app_image_tag == "latest"


def test_direct_runs_read_cdk_json_context_and_command_line_wins(tmp_path):
    from app import cdk_json_context, parse_context

    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": "x", "context": {"worker_count": 3, "web_count": 4}}))
    context = cdk_json_context(cdk_json)
    context.update(parse_context(["-c", "worker_count=5"]))
    assert context == {"worker_count": "5", "web_count": 4}
    assert DeployConfig.from_context(context.get).worker_count == 5
    assert cdk_json_context(tmp_path / "missing.json") == {}
