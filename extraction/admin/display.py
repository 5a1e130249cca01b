"""Small display helpers the extraction admin pages share."""

import json

from django.urls import reverse
from django.utils.html import format_html


def pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def run_link(run) -> str:
    url = reverse("admin:extraction_extractionrun_change", args=[run.pk])
    return format_html('<a href="{}">{}</a>', url, str(run.pk)[:8])


def simulated_badge(run) -> str:
    if not run.simulated:
        return ""
    return format_html(
        '<span class="simulated-badge" title="{}" style="background:#fb8c00;color:#fff;'
        'padding:1px 6px;border-radius:3px;font-weight:bold">SIMULATED</span>',
        "This result came from the provider simulator, not from a real model.",
    )
