"""deploy/release.sh with stand-ins for the AWS CLI and the CDK CLI that record their calls."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "deploy" / "release.sh"

AWS = """#!/bin/sh
echo "aws $*" >> "$CALLS"
case "$*" in
  *describe-stacks*)
    [ -n "$STACK_EXISTS" ] || [ -f "$CALLS.created" ] || {
      echo "Stack with id Remorai does not exist" >&2; exit 255; }
    case "$*" in
      *AppImageTag*) echo "v1" ;;
      *ClusterName*) echo "remorai-cluster" ;;
      *MigrateTaskDefinition*) echo "arn:aws:ecs:eu-west-1:1:task-definition/remorai-migrate:7" ;;
      *PrivateSubnets*) echo "subnet-a,subnet-b" ;;
      *MigrateSecurityGroup*) echo "sg-web" ;;
    esac ;;
  *run-task*) echo "arn:aws:ecs:eu-west-1:1:task/remorai-cluster/abc" ;;
  *describe-tasks*) echo "$MIGRATE_EXIT" ;;
esac
"""
CDK = """#!/bin/sh
echo "cdk $*" >> "$CALLS"
touch "$CALLS.created"
"""


@pytest.fixture
def release(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("aws", AWS), ("fake-cdk", CDK)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls.log"

    def run(tag, *, exists=True, migrate_exit="0"):
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "CALLS": str(calls),
            "CDK": "fake-cdk",
            "STACK_EXISTS": "1" if exists else "",
            "MIGRATE_EXIT": migrate_exit,
        }
        result = subprocess.run(
            ["bash", str(RELEASE), tag, "-c", "certificate_arn=arn:x"],
            env=env,
            capture_output=True,
            text=True,
        )
        lines = calls.read_text().splitlines() if calls.exists() else []
        return result, lines

    return run


def test_migrates_with_the_new_image_before_moving_the_services(release):
    result, calls = release("v2")
    assert result.returncode == 0, result.stderr
    deploys = [c for c in calls if c.startswith("cdk ")]
    assert deploys == [
        "cdk deploy Remorai --require-approval never -c app_image_tag=v1 "
        "-c migrate_image_tag=v2 -c certificate_arn=arn:x",
        "cdk deploy Remorai --require-approval never -c app_image_tag=v2 -c certificate_arn=arn:x",
    ]
    order = [c.split()[1] + " " + c.split()[2] for c in calls if not c.startswith("aws cloudf")]
    assert order == [
        "deploy Remorai",
        "ecs run-task",
        "ecs wait",
        "ecs describe-tasks",
        "deploy Remorai",
    ]
    run_task = next(c for c in calls if "run-task" in c)
    assert "--task-definition arn:aws:ecs:eu-west-1:1:task-definition/remorai-migrate:7" in run_task
    assert "subnets=[subnet-a,subnet-b],securityGroups=[sg-web],assignPublicIp=DISABLED" in run_task


def test_a_failed_migration_stops_the_release(release):
    result, calls = release("v2", migrate_exit="1")
    assert result.returncode == 1
    assert "migrate failed (exit code 1)" in result.stderr
    assert "aws logs tail /remorai/migrate" in result.stderr
    assert not any("app_image_tag=v2" in c for c in calls)


def test_first_release_creates_the_stack_with_no_worker_then_migrates(release):
    result, calls = release("v1", exists=False)
    assert result.returncode == 0, result.stderr
    deploys = [c for c in calls if c.startswith("cdk ")]
    assert deploys == [
        "cdk deploy Remorai --require-approval never -c app_image_tag=v1 -c worker_count=0 "
        "-c certificate_arn=arn:x",
        "cdk deploy Remorai --require-approval never -c app_image_tag=v1 -c certificate_arn=arn:x",
    ]
    assert any("run-task" in c for c in calls)


def test_a_tag_is_required(tmp_path):
    result = subprocess.run(["bash", str(RELEASE)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "usage: deploy/release.sh <image-tag>" in result.stderr
