"""Task definitions: one app image in three roles (web, worker, migrate) and the LiteLLM proxy."""

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from remorai_deploy.config import LITELLM_CONFIG, LITELLM_START_SCRIPT

WEB_PORT = 8000
LITELLM_PORT = 4000
# The proxy serves under /litellm so that the ALB can route /litellm/* to it unchanged.
LITELLM_ROOT_PATH = "/litellm"

# The proxy's start script (writes our config, makes the sk- master key; see the file).
LITELLM_START = LITELLM_START_SCRIPT.read_text()


@dataclass(frozen=True)
class AppSecrets:
    provider_keys: dict[str, ecs.Secret]
    master_key_token: ecs.Secret
    django_secret_key: ecs.Secret
    db_user: ecs.Secret
    db_password: ecs.Secret


def log_group(scope: Construct, construct_id: str, name: str, retention) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        log_group_name=f"/{Stack.of(scope).stack_name.lower()}/{name}",
        retention=retention,
        removal_policy=RemovalPolicy.RETAIN,
    )


def remorai_task(
    scope: Construct,
    construct_id: str,
    *,
    role: str,
    image: ecs.ContainerImage,
    cpu: int,
    memory_mib: int,
    environment: dict[str, str],
    secrets: AppSecrets,
    retention,
    port: int | None = None,
    stop_timeout_seconds: int | None = None,
) -> ecs.FargateTaskDefinition:
    """The app image running `docker/entrypoint.sh <role>`.

    web and worker get the provider keys (direct fallback) and the proxy's key; the one-off
    migrate task gets only what Django needs to reach the database.
    """
    task = ecs.FargateTaskDefinition(
        scope,
        f"{construct_id}Task",
        cpu=cpu,
        memory_limit_mib=memory_mib,
        family=f"{Stack.of(scope).stack_name.lower()}-{role}",
    )
    container_secrets = {
        "DJANGO_SECRET_KEY": secrets.django_secret_key,
        "DB_USER": secrets.db_user,
        "DB_PASSWORD": secrets.db_password,
    }
    if role != "migrate":
        container_secrets.update(secrets.provider_keys)
        container_secrets["LITELLM_API_KEY_TOKEN"] = secrets.master_key_token
    task.add_container(
        role,
        image=image,
        command=[role],
        environment=environment,
        secrets=container_secrets,
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=role, log_group=log_group(scope, construct_id, role, retention)
        ),
        port_mappings=[ecs.PortMapping(container_port=port)] if port else None,
        stop_timeout=Duration.seconds(stop_timeout_seconds) if stop_timeout_seconds else None,
    )
    return task


def litellm_task(
    scope: Construct,
    construct_id: str,
    *,
    image: ecs.ContainerImage,
    cpu: int,
    memory_mib: int,
    secrets: AppSecrets,
    retention,
) -> ecs.FargateTaskDefinition:
    task = ecs.FargateTaskDefinition(
        scope,
        f"{construct_id}Task",
        cpu=cpu,
        memory_limit_mib=memory_mib,
        family=f"{Stack.of(scope).stack_name.lower()}-litellm",
    )
    task.add_container(
        "litellm",
        image=image,
        entry_point=["/bin/sh", "-c"],
        command=[LITELLM_START],
        environment={
            "LITELLM_CONFIG_YAML": LITELLM_CONFIG.read_text(),
            "SERVER_ROOT_PATH": LITELLM_ROOT_PATH,
            # No .env loading from the working directory; prices and Anthropic beta headers from
            # the bundled maps (no fetch at start or on the first Anthropic call).
            "LITELLM_MODE": "PRODUCTION",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
        },
        secrets={**secrets.provider_keys, "LITELLM_MASTER_KEY_TOKEN": secrets.master_key_token},
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix="litellm",
            log_group=log_group(scope, construct_id, "litellm", retention),
        ),
        port_mappings=[ecs.PortMapping(container_port=LITELLM_PORT)],
    )
    return task
