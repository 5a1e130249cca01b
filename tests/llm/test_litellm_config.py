"""deploy/litellm/config.yaml stays in step with the model catalog and keeps our retry loop the
only one. Fast: reads YAML only (the real proxy runs in test_proxy_real.py)."""

import pytest
import yaml

from llm.conf import conf
from tests.fixtures.litellm import PRODUCTION_CONFIG, simulator_config

PROVIDER_KEYS = {
    "openai": "os.environ/OPENAI_API_KEY",
    "gemini": "os.environ/GEMINI_API_KEY",
    "anthropic": "os.environ/ANTHROPIC_API_KEY",
}


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(PRODUCTION_CONFIG.read_text())


@pytest.mark.django_db
def test_every_current_catalog_model_is_served_under_its_own_name(config):
    from llm.catalog import all_specs

    served = {entry["model_name"]: entry["litellm_params"] for entry in config["model_list"]}
    current = {s.name: s for s in all_specs() if not s.is_retired()}
    assert set(served) == set(current)
    for name, spec in current.items():
        assert served[name]["model"] == f"{spec.provider}/{spec.direct_model}", name


def test_keys_come_from_the_environment_and_no_upstream_is_hard_coded(config):
    for entry in config["model_list"]:
        params = entry["litellm_params"]
        provider = entry["model_name"].split("/", 1)[0]
        assert params["api_key"] == PROVIDER_KEYS[provider], entry["model_name"]
        assert "api_base" not in params, entry["model_name"]
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"


def test_the_proxy_neither_retries_nor_cools_down(config):
    assert config["litellm_settings"]["num_retries"] == 0
    assert config["router_settings"]["num_retries"] == 0
    assert config["router_settings"]["max_fallbacks"] == 0
    assert config["router_settings"]["disable_cooldowns"] is True
    assert "fallbacks" not in config["router_settings"]
    assert "fallbacks" not in config["litellm_settings"]


def test_proxy_upstream_timeout_is_shorter_than_ours(config):
    # Our client must hear the proxy's 408 rather than time out first.
    assert config["router_settings"]["timeout"] < conf.LLM_TIMEOUT_SECONDS
    assert config["litellm_settings"]["request_timeout"] < conf.LLM_TIMEOUT_SECONDS


def test_simulator_variant_points_every_model_at_the_simulator(config):
    bases = {p: f"http://sim/{p}" for p in PROVIDER_KEYS}
    variant = simulator_config(config, api_bases=bases, timeout=3)
    for entry in variant["model_list"]:
        provider = entry["model_name"].split("/", 1)[0]
        assert entry["litellm_params"]["api_base"] == bases[provider]
        assert entry["litellm_params"]["timeout"] == 3
    assert "api_base" not in config["model_list"][0]["litellm_params"]  # production untouched


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)]
)
def test_a_missing_proxy_venv_fails_under_ci_and_skips_locally(monkeypatch, tmp_path, ci, outcome):
    from tests.fixtures import litellm

    monkeypatch.setattr(litellm, "LITELLM_BIN", tmp_path / "no-venv" / "bin" / "litellm")
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="setup-litellm-venv"):
        litellm.require_litellm_venv()
