"""The proxy's ECS start (deploy/litellm/start.sh) with the real LiteLLM proxy (.venv-litellm).

It runs the script as the task does — `/bin/sh -c "<script>"`, the config in LITELLM_CONFIG_YAML,
SERVER_ROOT_PATH=/litellm, the master key as a bare token — and then reaches it the way web and
worker do: our LiteLLMProxy gateway at LITELLM_BASE_URL = <host>/litellm with the key "sk-<token>".
The models' api_base points at the provider simulator (everything stays on 127.0.0.1).
"""

import secrets
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from llm.gateways.litellm_proxy import LiteLLMProxy
from llm.types import GenerationRequest
from llm.validation import validate_generation
from tests.fixtures.litellm import (
    LITELLM_VENV,
    PRODUCTION_CONFIG,
    START_TIMEOUT,
    free_port,
    proxy_environment,
    require_litellm_venv,
    simulator_config,
    stop_proxy,
)

pytestmark = pytest.mark.proxy

REPO = Path(__file__).resolve().parents[2]
START_SCRIPT = REPO / "deploy" / "litellm" / "start.sh"
PDF = REPO / "tests" / "fixtures" / "pdfs" / "truth" / "SammyMaystoneLinesTest.pdf"
SCHEMA = {
    "type": "object",
    "properties": {"description": {"type": ["string", "null"]}},
    "required": ["description"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def ecs_style_proxy(simulator_server, tmp_path_factory):
    require_litellm_venv()
    config = simulator_config(
        yaml.safe_load(PRODUCTION_CONFIG.read_text()),
        api_bases={
            "openai": simulator_server.openai_base_url,
            "gemini": simulator_server.gemini_base_url,
            "anthropic": simulator_server.anthropic_base_url,
        },
    )
    workdir = tmp_path_factory.mktemp("litellm-ecs")
    token = secrets.token_urlsafe(24)
    port = free_port()
    env = proxy_environment(master_key="unused")
    del env["LITELLM_MASTER_KEY"]  # the task gets only the token
    env.update(
        {
            "PATH": f"{LITELLM_VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            "LITELLM_CONFIG_YAML": yaml.safe_dump(config, sort_keys=False),
            "LITELLM_MASTER_KEY_TOKEN": token,
            "SERVER_ROOT_PATH": "/litellm",
            # Tests bind loopback and a free port; the task uses the defaults 0.0.0.0:4000.
            "LITELLM_HOST": "127.0.0.1",
            "LITELLM_PORT": str(port),
            "LITELLM_CONFIG_PATH": str(workdir / "config.yaml"),
        }
    )
    log_path = workdir / "litellm.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", START_SCRIPT.read_text()],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    root = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"start.sh exited {process.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{root}/litellm/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"proxy not ready:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield {"root": root, "key": f"sk-{token}", "token": token, "config": config}
    finally:
        stop_proxy(process)


def test_liveliness_answers_under_the_alb_prefix(ecs_style_proxy):
    # The ALB target group's health check path.
    response = httpx.get(f"{ecs_style_proxy['root']}/litellm/health/liveliness", timeout=10)
    assert response.status_code == 200, response.text


def test_the_master_key_is_sk_plus_the_token(ecs_style_proxy):
    url = f"{ecs_style_proxy['root']}/litellm/v1/models"
    ok = httpx.get(url, headers={"Authorization": f"Bearer {ecs_style_proxy['key']}"}, timeout=10)
    assert ok.status_code == 200, ok.text
    served = {m["id"] for m in ok.json()["data"]}
    assert served == {m["model_name"] for m in ecs_style_proxy["config"]["model_list"]}
    bare = httpx.get(
        url, headers={"Authorization": f"Bearer {ecs_style_proxy['token']}"}, timeout=10
    )
    assert bare.status_code >= 400


def test_the_app_gateway_works_at_the_prefixed_base_url(ecs_style_proxy, simulator):
    gateway = LiteLLMProxy(
        base_url=f"{ecs_style_proxy['root']}/litellm", api_key=ecs_style_proxy["key"], timeout=30
    )
    ok, detail = gateway.health()
    assert ok, detail
    model = "openai/gpt-4o"
    remote = gateway.upload(PDF, PDF.name, "application/pdf", model=model)
    generation = gateway.generate(
        GenerationRequest(
            model=model,
            instructions="Describe the document.",
            schema=SCHEMA,
            file=remote,
            filename=PDF.name,
        )
    )
    assert set(validate_generation(generation, SCHEMA)) == {"description"}
    gateway.delete(remote.id, model=model)
