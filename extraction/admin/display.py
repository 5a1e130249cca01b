"""Small display helpers the extraction admin pages share."""

import json

from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html


def pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def run_link(run) -> str:
    url = reverse("admin:extraction_extractionrun_change", args=[run.pk])
    return format_html('<a href="{}">{}</a>', url, str(run.pk)[:8])


def simulated_badge(run, title: str = "This result came from the provider simulator") -> str:
    """The SIMULATED label of anything with a true `simulated` (a run; a batch job annotated)."""
    if not run.simulated:
        return ""
    return format_html(
        '<span class="simulated-badge" title="{}" style="background:#fb8c00;color:#fff;'
        'padding:1px 6px;border-radius:3px;font-weight:bold">SIMULATED</span>',
        f"{title}, not from a real model.",
    )


def when(moment) -> str:
    """A time as people read it ("30 Nov 2026, 06:12:05", local time), "-" for none."""
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), "j M Y, H:i:s")


def duration(run) -> str:
    """How long a run ran ("4.2 s", "3 min 05 s"), "-" before it started or ended."""
    if run.started_at is None or run.finished_at is None:
        return "-"
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def short_name(name: str, limit: int = 40) -> str:
    """A long file name cut to fit a list column, whole in its tooltip."""
    if len(name) <= limit:
        return name
    return format_html('<span title="{}">{}…</span>', name, name[: limit - 1])
