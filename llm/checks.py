"""System checks: LLM_MODELS_JSON (the catalog override) is well-formed; deployed, the key secret
is readable.

Retiring models are not a check warning (checks run without the database, and it would print on
every command): `manage.py llm_check` and the model admin list them.
"""

from __future__ import annotations

from datetime import date

from django.core.checks import Error, register

from llm.catalog import PROVIDERS
from llm.conf import conf


@register("llm")
def catalog_check(app_configs=None, **kwargs):
    overrides = conf.LLM_MODELS_JSON or {}
    if not isinstance(overrides, dict):
        return [Error("LLM_MODELS_JSON must be a JSON object of models.", id="llm.E001")]
    problems = []
    for name, raw in overrides.items():
        provider = name.partition("/")[0]
        if provider not in PROVIDERS or not isinstance(raw, dict | None):
            problems.append(
                Error(
                    f"LLM_MODELS_JSON entry {name!r} must be 'provider/model' with provider one "
                    f"of {', '.join(PROVIDERS)} and an object of fields (or null to remove it).",
                    id="llm.E001",
                )
            )
            continue
        for field in ("max_pages", "max_bytes", "max_output_tokens"):
            if field in (raw or {}) and (not isinstance(raw[field], int) or raw[field] <= 0):
                message = f"LLM_MODELS_JSON[{name!r}].{field} must be a positive integer."
                problems.append(Error(message, id="llm.E002"))
        if (raw or {}).get("retires_on"):
            try:
                date.fromisoformat(str(raw["retires_on"]))
            except ValueError:
                message = f"LLM_MODELS_JSON[{name!r}].retires_on must be a date (YYYY-MM-DD)."
                problems.append(Error(message, id="llm.E002"))
    return problems


@register("llm", deploy=True)
def secrets_check(app_configs=None, **kwargs):
    from llm.errors import ConfigurationError
    from llm.secrets import check_secrets

    try:
        check_secrets()
    except ConfigurationError as exc:
        return [Error(exc.detail, id="llm.E003")]
    return []
