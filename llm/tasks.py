"""Background tasks of the llm app (django-q2)."""

from __future__ import annotations

import logging

from llm.conf import conf

logger = logging.getLogger(__name__)


def sync_models_daily() -> str:
    """The daily schedule (migration llm.0003): sync the catalog when a proxy is configured."""
    if not conf.LITELLM_BASE_URL:
        return "skipped: LITELLM_BASE_URL is not set"
    from llm.sync import sync_models

    changes = sync_models()
    return f"{sum(c.action in ('create', 'update') for c in changes)} models changed"
