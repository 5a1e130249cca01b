"""Keys from the environment or AWS Secrets Manager (moto), and proof they never leak."""

import io
import json
import logging

import boto3
import pytest
from moto import mock_aws

from extraction.models import ExtractionAttempt, ExtractionRun
from extraction.services import execution, runs
from llm import secrets
from llm.errors import ConfigurationError, RequestRejected, RetryableError
from llm.gateways import gateways_from
from llm.secrets import check_secrets, get_api_key
from remorai.logging import RedactSecretsFilter
from tests.extraction.pipeline import make_document, seeded_profile
from tests.fixtures.gateways import FakeGateway
from tests.llm.fakes import llm_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("llm_settings")

SECRET_ID = "remorai/test/llm-keys"
# Recognisable, and deliberately not shaped like any provider key (sk-…, AIza…), so only the
# registration of known secrets can mask them.
FAKE_KEYS = {
    "OPENAI_API_KEY": "RECOGNISABLE-openai-7f3a9c1e",
    "GEMINI_API_KEY": "RECOGNISABLE-gemini-2b8d4f60",
    "ANTHROPIC_API_KEY": "RECOGNISABLE-anthropic-91c0e5d7",
}


@pytest.fixture
def aws(monkeypatch, settings):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    settings.AWS_SECRETS_REGION = "eu-west-1"
    for name in FAKE_KEYS:
        setattr(settings, name, "")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")


def store(client, payload, secret_id=SECRET_ID):
    client.create_secret(Name=secret_id, SecretString=json.dumps(payload))


def test_keys_come_from_settings_without_a_secret_id(settings):
    settings.GEMINI_API_KEY = "from-the-environment-123"
    assert get_api_key("gemini") == "from-the-environment-123"


def test_keys_come_from_the_secret_when_configured(aws, settings):
    store(aws, FAKE_KEYS)
    settings.LLM_SECRETS_ID = SECRET_ID
    assert get_api_key("openai") == FAKE_KEYS["OPENAI_API_KEY"]
    assert get_api_key("anthropic") == FAKE_KEYS["ANTHROPIC_API_KEY"]
    assert get_api_key("litellm") == settings.LITELLM_API_KEY  # not in the secret: settings
    check_secrets()


def test_the_secret_is_cached(aws, settings):
    store(aws, FAKE_KEYS)
    settings.LLM_SECRETS_ID = SECRET_ID
    assert get_api_key("gemini")
    aws.delete_secret(SecretId=SECRET_ID, ForceDeleteWithoutRecovery=True)
    assert get_api_key("gemini") == FAKE_KEYS["GEMINI_API_KEY"]
    secrets.clear_cache()
    with pytest.raises(ConfigurationError):
        get_api_key("gemini")


def test_a_missing_secret_is_a_clear_error_naming_the_id(aws, settings):
    settings.LLM_SECRETS_ID = "remorai/does-not-exist"
    with pytest.raises(ConfigurationError) as caught:
        get_api_key("openai")
    assert "remorai/does-not-exist" in caught.value.detail
    assert "ResourceNotFoundException" in caught.value.detail


def test_a_secret_that_is_not_json_is_a_clear_error(aws, settings):
    aws.create_secret(Name=SECRET_ID, SecretString="RECOGNISABLE-not-json-value")
    settings.LLM_SECRETS_ID = SECRET_ID
    with pytest.raises(ConfigurationError) as caught:
        get_api_key("openai")
    assert SECRET_ID in caught.value.detail
    assert "RECOGNISABLE" not in caught.value.detail


def test_a_secret_without_any_key_fails_the_start_up_check(aws, settings):
    store(aws, {"SOMETHING_ELSE": "x"})
    settings.LLM_SECRETS_ID = SECRET_ID
    with pytest.raises(ConfigurationError) as caught:
        check_secrets()
    assert SECRET_ID in caught.value.detail


def test_unreachable_secrets_manager_is_a_clear_error(monkeypatch, settings):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETSMANAGER", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    settings.LLM_SECRETS_ID = SECRET_ID
    with pytest.raises(ConfigurationError) as caught:
        get_api_key("openai")
    assert SECRET_ID in caught.value.detail


def test_unreadable_secret_means_no_direct_route_not_a_crash(aws, settings, caplog):
    from llm.routing import plan

    settings.LLM_SECRETS_ID = "remorai/does-not-exist"
    routes = plan("openai/gpt-4o", [], 1, 1)
    assert [r.route for r in routes] == ["proxy"]
    assert "remorai/does-not-exist" in caplog.text


@pytest.fixture
def console_lines():
    """What the configured console handler (with its redaction filter) writes."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_keys_appear_in_no_log_line_exception_attempt_or_stored_row(
    aws, settings, caplog, console_lines, user
):
    store(aws, FAKE_KEYS)
    settings.LLM_SECRETS_ID = SECRET_ID
    settings.LITELLM_BASE_URL = ""
    caplog.handler.addFilter(RedactSecretsFilter())
    openai_key, gemini_key = FAKE_KEYS["OPENAI_API_KEY"], FAKE_KEYS["GEMINI_API_KEY"]

    # Providers echo the key back in their errors (OpenAI does: "Incorrect API key provided").
    fakes = {
        "openai": FakeGateway(
            "direct",
            "openai",
            [RequestRejected(f"Incorrect API key: {openai_key}", http_status=401)],
        ),
        "gemini": FakeGateway(
            "direct",
            "gemini",
            [RetryableError(f"upstream said key={gemini_key} is throttled", http_status=503)] * 3,
        ),
    }

    def gateway_for(route, provider):
        logging.getLogger("llm.test").warning("using key %s", get_api_key(provider))
        return fakes[provider]

    settings.LLM_RETRY_BASE_SECONDS = 0
    run = runs.extraction_run_enqueue(
        document=make_document(user),
        profile=seeded_profile("invoice"),
        model="openai/gpt-4o",
        trigger="api",
    )
    ExtractionRun.objects.filter(pk=run.pk).update(fallback_models=["gemini/gemini-2.5-flash"])
    with gateways_from(gateway_for), caplog.at_level(logging.DEBUG):
        status = execution.extraction_run_execute(run_id=run.pk)
    assert status == ExtractionRun.Status.FAILED

    run.refresh_from_db()
    stored = [json.dumps(ExtractionRun.objects.filter(pk=run.pk).values().get(), default=str)]
    stored += [
        json.dumps(row, default=str) for row in ExtractionAttempt.objects.filter(run=run).values()
    ]
    assert len(stored) > 3  # the attempts were stored
    assert "Incorrect API key" in run.error_message  # the error itself is kept …
    logged = caplog.text + console_lines.getvalue()
    assert "using key" in logged
    for value in FAKE_KEYS.values():
        assert value not in logged  # … but never the key
        assert all(value not in row for row in stored)
        assert value not in run.error_message
