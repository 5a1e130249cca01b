"""The secret-redaction patterns mask keys, not the words around them (issue #17 §5)."""

import pytest

from remorai.logging import redact


@pytest.mark.parametrize(
    "message",
    [
        "The task-specific model answered with an error.",
        "Disk-space low; risk-adjusted retry answered later.",
        "Authorization: invalid credentials were answered by the proxy",
        "api_key: missing",
        "Your API key was rejected; the provider answered 401.",
        "Use the x-api-key header (see docs).",
        "desk-reference-manual answered",
    ],
)
def test_ordinary_words_of_provider_messages_are_kept(message):
    assert redact(message) == message


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78.", "sk-proj-Ab12Cd34Ef56Gh78"),
        ("key sk-ant-api03-abcdefgh12345678 is invalid", "sk-ant-api03-abcdefgh12345678"),
        ("'sk-FAKEKEY-recognisable-0001' rejected", "sk-FAKEKEY-recognisable-0001"),
        ("API key not valid: AIzaSyA1b2C3d4E5f6G7h8", "AIzaSyA1b2C3d4E5f6G7h8"),
        ("Authorization: Bearer abc123def456ghi789", "abc123def456ghi789"),
        ('{"x-api-key": "litellm-FAKEKEY-0001-zz"}', "litellm-FAKEKEY-0001-zz"),
        ("api_key=0123456789abcdef&x=1", "0123456789abcdef&x=1"),
    ],
)
def test_keys_are_masked(message, secret):
    cleaned = redact(message)
    assert secret not in cleaned and "[REDACTED]" in cleaned
