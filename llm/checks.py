"""System checks: the model catalog is well-formed; deployed, the key secret is readable.

Deprecated models are not a check warning (it would print on every command): llm.catalog logs
one when such a model is used, and `manage.py llm_check` lists them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from llm.catalog import PROVIDERS


@register("llm")
def catalog_check(app_configs=None, **kwargs):
    problems = []
    for name, raw in settings.LLM_MODELS.items():
        provider = name.partition("/")[0]
        if provider not in PROVIDERS or not isinstance(raw, dict):
            problems.append(
                Error(
                    f"LLM_MODELS entry {name!r} must be 'provider/model' with provider one of "
                    f"{', '.join(PROVIDERS)} and a dict of settings.",
                    id="llm.E001",
                )
            )
            continue
        for field in ("max_pages", "max_bytes"):
            if not isinstance(raw.get(field), int) or raw[field] <= 0:
                message = f"LLM_MODELS[{name!r}].{field} must be a positive integer."
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
