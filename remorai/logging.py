"""Log formatting: JSON lines on request, and a filter that keeps API keys out of every line."""

import json
import logging
import re
from datetime import UTC, datetime

# Provider key shapes (OpenAI sk-…, Anthropic sk-ant-…, Gemini AIza…) and bearer/token headers.
# A key starts a word ("task-specific" holds no "sk-" key) and a header's value is redacted only
# when it looks like a credential (12+ characters with a digit): "Authorization: invalid
# credentials" keeps its words, "Authorization: Bearer abc123def456ghi" loses the token.
_WORD_START = r"(?<![A-Za-z0-9_\-])"
_SECRET_PATTERNS = [
    re.compile(_WORD_START + r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{8,}"),
    re.compile(_WORD_START + r"AIza[0-9A-Za-z_\-]{10,}"),
    # Webhook signing secrets (Standard Webhooks whsec_ + base64).
    re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),
    re.compile(
        r"(?i)\b(authorization|x-api-key|x-goog-api-key|api[_-]?key)([\"']?\s*[:=]\s*[\"']?)"
        r"(?:bearer\s+|token\s+|basic\s+)?(?=[^\s\"',}]*\d)[^\s\"',}]{12,}"
    ),
]
_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it would be logged."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    text = _SECRET_PATTERNS[0].sub("[REDACTED]", text)
    text = _SECRET_PATTERNS[1].sub("[REDACTED]", text)
    text = _SECRET_PATTERNS[2].sub("[REDACTED]", text)
    return _SECRET_PATTERNS[3].sub(lambda m: f"{m.group(1)}{m.group(2)}[REDACTED]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    _skip = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in self._skip})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        return redact(json.dumps(payload, default=str))


def logging_config(*, fmt: str, level: str) -> dict:
    """The LOGGING setting: one console handler (text or JSON lines), every line redacted."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "remorai.logging.RedactSecretsFilter"}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "remorai.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if fmt == "json" else "text",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            # botocore's DEBUG lines carry response bodies: Secrets Manager's answer holds the keys
            # before llm.secrets can register them for masking.
            "botocore": {"level": "WARNING"},
            "boto3": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            # pypdf warns about every quirk of an uploaded file; intake reports what matters.
            "pypdf": {"level": "ERROR"},
            # factur-x warns about every PDF that carries no e-invoice (most of them).
            "factur-x": {"level": "ERROR"},
        },
    }
