"""The three Fargate services: sizes, roles, ports, images, environment, service discovery."""

import re
from pathlib import Path

from aws_cdk.assertions import Match
from helpers import container, environment, of_type, one_of_type, ref_name, task
from remorai_deploy.config import LITELLM_CONFIG, LITELLM_START_SCRIPT

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "http://litellm.remorai.internal:4000/litellm"


def test_litellm_task_defaults_to_one_gib_and_half_a_vcpu(resources):
    props = task(resources, "LitellmTask")
    assert (props["Cpu"], props["Memory"]) == ("512", "1024")
    assert props["RequiresCompatibilities"] == ["FARGATE"]
    assert props["NetworkMode"] == "awsvpc"


def test_litellm_size_is_a_context_value():
    from conftest import synth

    _, template = synth({"litellm_cpu": "1024", "litellm_memory_mib": "2048"})
    props = task(template.to_json()["Resources"], "LitellmTask")
    assert (props["Cpu"], props["Memory"]) == ("1024", "2048")


def test_web_and_worker_sizes(resources):
    assert (task(resources, "WebTask")["Cpu"], task(resources, "WebTask")["Memory"]) == (
        "512",
        "1024",
    )
    assert (task(resources, "WorkerTask")["Cpu"], task(resources, "WorkerTask")["Memory"]) == (
        "1024",
        "2048",
    )


def test_one_app_image_runs_as_web_worker_and_migrate(resources):
    images = set()
    for prefix, role in (("WebTask", "web"), ("WorkerTask", "worker"), ("MigrateTask", "migrate")):
        definition = container(resources, prefix)
        assert definition["Name"] == role
        assert definition["Command"] == [role]
        images.add(str(definition["Image"]))
    assert len(images) == 1
    assert "remorai:latest" in images.pop()


def test_ports(resources):
    assert container(resources, "WebTask")["PortMappings"] == [
        {"ContainerPort": 8000, "Protocol": "tcp"}
    ]
    assert container(resources, "LitellmTask")["PortMappings"] == [
        {"ContainerPort": 4000, "Protocol": "tcp"}
    ]
    assert "PortMappings" not in container(resources, "WorkerTask")


def test_litellm_image_is_pinned_to_requirements_litellm(resources):
    pinned = re.search(
        r"^litellm\[proxy\]==([\w.]+)$",
        (REPO / "requirements-litellm.in").read_text(),
        re.MULTILINE,
    ).group(1)
    assert container(resources, "LitellmTask")["Image"] == f"ghcr.io/berriai/litellm:v{pinned}"


def test_litellm_image_is_a_context_value():
    from conftest import synth

    _, template = synth({"litellm_image": "ghcr.io/berriai/litellm:v9.9.9"})
    image = container(template.to_json()["Resources"], "LitellmTask")["Image"]
    assert image == "ghcr.io/berriai/litellm:v9.9.9"


def test_litellm_serves_under_the_alb_prefix_with_our_config(resources):
    env = environment(resources, "LitellmTask")
    assert env["SERVER_ROOT_PATH"] == "/litellm"
    assert env["LITELLM_CONFIG_YAML"] == LITELLM_CONFIG.read_text()
    assert env["LITELLM_MODE"] == "PRODUCTION"
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS"] == "True"
    assert "DATABASE_URL" not in env
    definition = container(resources, "LitellmTask")
    assert definition["EntryPoint"] == ["/bin/sh", "-c"]
    (start,) = definition["Command"]
    assert start == LITELLM_START_SCRIPT.read_text()
    assert 'LITELLM_MASTER_KEY="sk-$LITELLM_MASTER_KEY_TOKEN"' in start
    assert "LITELLM_PORT" not in env and "LITELLM_HOST" not in env  # so: 0.0.0.0:4000


def test_web_and_worker_reach_the_proxy_by_its_service_discovery_name(resources):
    for prefix in ("WebTask", "WorkerTask"):
        assert environment(resources, prefix)["LITELLM_BASE_URL"] == BASE_URL
    (namespace,) = of_type(resources, "AWS::ServiceDiscovery::PrivateDnsNamespace").values()
    assert namespace["Properties"]["Name"] == "remorai.internal"
    (discovery_name, discovery) = next(
        iter(of_type(resources, "AWS::ServiceDiscovery::Service").items())
    )
    assert discovery["Properties"]["Name"] == "litellm"
    _, service = one_of_type(resources, "AWS::ECS::Service", "LitellmService")
    (registry,) = service["Properties"]["ServiceRegistries"]
    assert ref_name(registry["RegistryArn"]) == discovery_name


def test_rollback_switch_removes_the_proxy_url_only(resources):
    from conftest import synth

    _, template = synth({"litellm_enabled": "false"})
    direct = template.to_json()["Resources"]
    for prefix in ("WebTask", "WorkerTask"):
        env = environment(direct, prefix)
        assert "LITELLM_BASE_URL" not in env
        assert {
            k: v for k, v in environment(resources, prefix).items() if k != "LITELLM_BASE_URL"
        } == env
    # The proxy keeps running, so switching back is one more deploy and no cold start.
    assert len(of_type(direct, "AWS::ECS::Service")) == 3
    outputs = template.to_json()["Outputs"]
    assert outputs["LitellmBaseUrl"]["Value"].startswith("off")


def test_outputs_for_the_release_script(template):
    outputs = template.to_json()["Outputs"]
    assert {
        "AppImageTag",
        "ClusterName",
        "MigrateTaskDefinition",
        "MigrateSecurityGroup",
        "PrivateSubnets",
        "LoadBalancerDns",
        "WorkerServiceName",
    } <= set(outputs)
    assert outputs["AppImageTag"]["Value"] == "latest"
    assert outputs["LitellmBaseUrl"]["Value"] == BASE_URL


def test_app_settings_for_production(resources):
    env = environment(resources, "WebTask")
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DJANGO_ALLOWED_HOSTS"] == "remorai.example.com"
    assert env["DB_NAME"] == "remorai"
    assert env["DB_SSLMODE"] == "require"
    assert "DATABASE_URL" not in env
    assert environment(resources, "WorkerTask")["QUEUE_METRICS_ENABLED"] == "true"
    assert "QUEUE_METRICS_ENABLED" not in env


def test_services_web_behind_the_alb_worker_without_litellm_with(template, resources):
    services = of_type(resources, "AWS::ECS::Service")
    assert len(services) == 3
    _, web = one_of_type(resources, "AWS::ECS::Service", "WebService")
    _, worker = one_of_type(resources, "AWS::ECS::Service", "WorkerService")
    _, litellm = one_of_type(resources, "AWS::ECS::Service", "LitellmService")
    assert [
        (lb["ContainerName"], lb["ContainerPort"]) for lb in web["Properties"]["LoadBalancers"]
    ] == [("web", 8000)]
    assert "LoadBalancers" not in worker["Properties"]
    assert [
        (lb["ContainerName"], lb["ContainerPort"]) for lb in litellm["Properties"]["LoadBalancers"]
    ] == [("litellm", 4000)]
    for service in services.values():
        props = service["Properties"]
        assert props["LaunchType"] == "FARGATE"
        assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
        assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
            "Enable": True,
            "Rollback": True,
        }
    template.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": Match.array_with([{"Name": "containerInsights", "Value": "enabled"}])},
    )


def test_worker_gets_the_longest_stop_timeout_to_finish_a_run(resources):
    assert container(resources, "WorkerTask")["StopTimeout"] == 120
    assert "StopTimeout" not in container(resources, "WebTask")


def test_worker_count_is_a_context_value():
    from conftest import synth

    _, template = synth({"worker_count": "4"})
    _, worker = one_of_type(template.to_json()["Resources"], "AWS::ECS::Service", "WorkerService")
    assert worker["Properties"]["DesiredCount"] == 4


def test_a_log_group_per_container_with_retention(resources):
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) == 4
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {30}
    used = set()
    for prefix in ("WebTask", "WorkerTask", "MigrateTask", "LitellmTask"):
        log = container(resources, prefix)["LogConfiguration"]
        assert log["LogDriver"] == "awslogs"
        used.add(ref_name(log["Options"]["awslogs-group"]))
    assert used == set(groups)
    names = {g["Properties"]["LogGroupName"] for g in groups.values()}
    assert names == {"/remorai/web", "/remorai/worker", "/remorai/migrate", "/remorai/litellm"}
