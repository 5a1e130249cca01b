"""docker-compose.yml, parsed (no Docker engine here): services, ports, env, volumes, ordering."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT_ROLES = {"web", "worker", "migrate"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _pinned_litellm_version() -> str:
    text = (REPO / "requirements-litellm.in").read_text()
    match = re.search(r"^litellm\[proxy\]==([\w.]+)$", text, re.MULTILINE)
    assert match, "requirements-litellm.in pins litellm[proxy]"
    return match.group(1)


def test_the_laptop_stack_has_every_service(services):
    assert set(services) == {"postgres", "redis", "litellm", "migrate", "web", "worker"}


def test_litellm_runs_the_pinned_image_on_4000_with_our_config(services):
    litellm = services["litellm"]
    assert litellm["image"] == f"ghcr.io/berriai/litellm:v{_pinned_litellm_version()}"
    assert "4000:4000" in litellm["ports"]
    mount = "./deploy/litellm/config.yaml:/app/config.yaml:ro"
    assert mount in litellm["volumes"]
    assert (REPO / "deploy/litellm/config.yaml").is_file()
    command = litellm["command"]
    assert command[command.index("--config") + 1] == "/app/config.yaml"
    assert command[command.index("--port") + 1] == "4000"
    env = litellm["environment"]
    assert env["LITELLM_MASTER_KEY"].startswith("${LITELLM_MASTER_KEY:?")
    assert {"OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"} <= set(env)
    # The proxy exits at start when DATABASE_URL is set without prisma (LITELLM.md).
    assert "DATABASE_URL" not in env
    # Nothing fetched at start or on the first Anthropic call: bundled prices and beta headers.
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS"] == "True"
    assert "env_file" not in litellm
    assert "/health/liveliness" in " ".join(litellm["healthcheck"]["test"])


def test_web_worker_and_migrate_are_one_image_in_three_roles(services):
    images = {services[name]["image"] for name in ENTRYPOINT_ROLES}
    assert images == {"remorai:local"}
    assert all(services[name]["build"] == "." for name in ENTRYPOINT_ROLES)
    assert {name: services[name]["command"] for name in ENTRYPOINT_ROLES} == {
        name: [name] for name in ENTRYPOINT_ROLES
    }
    entrypoint = (REPO / "docker/entrypoint.sh").read_text()
    for role in ENTRYPOINT_ROLES:
        assert f"\n  {role})\n" in entrypoint


@pytest.mark.parametrize("name", ["web", "worker", "migrate"])
def test_app_services_reach_postgres_redis_and_the_proxy(services, name):
    env = services[name]["environment"]
    assert env["DATABASE_URL"] == "postgres://remorai:remorai@postgres:5432/remorai"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["LITELLM_BASE_URL"] == "http://litellm:4000"
    assert env["LITELLM_API_KEY"].startswith("${LITELLM_MASTER_KEY:?")
    assert {"OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"} <= set(env)
    assert f"media:{env['MEDIA_ROOT']}" in services[name]["volumes"]


def test_web_publishes_8000_and_checks_healthz(services):
    assert "8000:8000" in services["web"]["ports"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_long_running_services_have_healthchecks(services):
    for name in ("postgres", "redis", "litellm", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_start_order_waits_on_health_and_on_migrations(services):
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    expected = {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "litellm": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["web"]["depends_on"] == expected
    assert services["worker"]["depends_on"] == expected


def test_named_volumes_are_declared(compose, services):
    assert set(compose["volumes"]) == {"pgdata", "media"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
