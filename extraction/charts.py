"""Small server-side SVG charts (inline in the page: no CDN, no client-side code).

Each mark carries its value in a <title> (tooltip) and a data-value attribute.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = {
    "queued": "#9e9e9e",
    "running": "#1e88e5",
    "succeeded": "#43a047",
    "failed": "#e53935",
    "cancelled": "#fb8c00",
}
SERIES = ["#1e88e5", "#8e24aa", "#00897b", "#f4511e", "#6d4c41", "#3949ab"]
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^n at or above `value` (a readable top of the axis)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= value)


def _fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.4g}"


def _svg(width: int, height: int, body: list[str], label: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every text inside was escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _legend(items: list[tuple[str, str]], x: int, y: int) -> list[str]:
    out = []
    for i, (name, colour) in enumerate(items):
        xi = x + i * 95
        out.append(f'<rect x="{xi}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{xi + 14}" y="{y}" {FONT}>{escape(name)}</text>')
    return out


def stacked_bars(
    columns: list[tuple[str, dict[str, float]]],
    series: list[str],
    *,
    label: str,
    colours: dict[str, str] | None = None,
    width: int = 720,
    height: int = 240,
) -> SafeString:
    """One bar per column, stacked by series (e.g. runs per day by status)."""
    colours = colours or PALETTE
    left, bottom, top = 40, 40, 24
    plot_h = height - bottom - top
    top_value = _nice_max(max((sum(v.values()) for _, v in columns), default=0))
    slot = (width - left - 10) / max(len(columns), 1)
    bar_w = max(min(slot * 0.7, 40), 2)
    body = _axis(left, top, plot_h, width, top_value)
    every = max(1, len(columns) // 12)
    for i, (name, values) in enumerate(columns):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for s in series:
            v = values.get(s, 0)
            if not v:
                continue
            h = plot_h * v / top_value
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours.get(s, "#607d8b")}" data-series="{escape(s)}" '
                f'data-column="{escape(name)}" data-value="{_fmt(v)}">'
                f"<title>{escape(name)} {escape(s)}: {_fmt(v)}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                f"{FONT}>{escape(name)}</text>"
            )
    body += _legend([(s, colours.get(s, "#607d8b")) for s in series], left, height - 8)
    return _svg(width, height, body, label)


def _axis(left, top, plot_h, width, top_value) -> list[str]:
    out = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>'
            f"{_fmt(top_value * frac)}</text>"
        )
    return out


def line_chart(
    points: list[tuple[str, float | None]],
    *,
    label: str,
    percent: bool = True,
    width: int = 720,
    height: int = 200,
) -> SafeString:
    """A line over columns; None values leave a gap (e.g. a day without runs)."""
    left, bottom, top = 40, 30, 16
    plot_h = height - bottom - top
    top_value = 1.0 if percent else _nice_max(max((v or 0 for _, v in points), default=0))
    slot = (width - left - 10) / max(len(points), 1)
    body = []
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        text = f"{frac * 100:.0f}%" if percent else _fmt(top_value * frac)
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{text}</text>')
    segment: list[str] = []
    segments = []
    every = max(1, len(points) // 12)
    for i, (name, value) in enumerate(points):
        x = left + i * slot + slot / 2
        if i % every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>'
                f"{escape(name)}</text>"
            )
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = top + plot_h * (1 - value / top_value)
        segment.append(f"{x:.1f},{y:.1f}")
        shown = f"{value * 100:.1f}%" if percent else _fmt(value)
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{SERIES[0]}" '
            f'data-column="{escape(name)}" data-value="{value:.4f}">'
            f"<title>{escape(name)}: {shown}</title></circle>"
        )
    if segment:
        segments.append(segment)
    for seg in segments:
        body.insert(
            0,
            f'<polyline points="{" ".join(seg)}" fill="none" stroke="{SERIES[0]}" '
            'stroke-width="2"/>',
        )
    return _svg(width, height, body, label)


def horizontal_bars(
    rows: list[tuple[str, list[float | None]]],
    *,
    label: str,
    series: list[str] | None = None,
    unit: str = "",
    width: int = 720,
) -> SafeString:
    """One group of horizontal bars per row (several series side by side, e.g. p50 and p95)."""
    series = series or [""]
    left, right = 220, 90
    bar_h, gap = 14, 10
    group_h = bar_h * len(series) + gap
    height = max(group_h * len(rows), 20) + (24 if len(series) > 1 else 4)
    top_value = _nice_max(max((v or 0 for _, vs in rows for v in vs), default=0))
    plot_w = width - left - right
    body = []
    for i, (name, values) in enumerate(rows):
        y0 = i * group_h + 4
        body.append(
            f'<text x="{left - 6}" y="{y0 + bar_h * len(series) / 2 + 4:.1f}" text-anchor="end" '
            f"{FONT}>{escape(name)}</text>"
        )
        for j, value in enumerate(values):
            y = y0 + j * bar_h
            w = plot_w * (value or 0) / top_value
            shown = "-" if value is None else f"{_fmt(round(value, 4))}{unit}"
            body.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{SERIES[j % len(SERIES)]}" data-row="{escape(name)}" '
                f'data-series="{escape(series[j])}" data-value="{"" if value is None else value}">'
                f"<title>{escape(name)} {escape(series[j])}: {shown}</title></rect>"
            )
            body.append(
                f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}" {FONT}>{escape(shown)}</text>'
            )
    if len(series) > 1:
        body += _legend(
            [(s, SERIES[j % len(SERIES)]) for j, s in enumerate(series)], left, height - 6
        )
    return _svg(width, height, body, label)
