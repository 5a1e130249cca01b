"""The staff dashboard at /admin/dashboard/ (a thin view: selectors, then SVG charts)."""

from decimal import Decimal

from django.contrib import admin
from django.template.response import TemplateResponse

from extraction import charts
from extraction.dashboard import RANGES, STATUSES, dashboard_data


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {sec:02d}s" if hours else f"{minutes}m {sec:02d}s"


def dashboard(request):
    data = dashboard_data(request.GET.get("range"))
    window = data["window"]
    day_fmt = "%m-%d"
    runs_chart = charts.stacked_bars(
        [(d.strftime(day_fmt), counts) for d, counts in data["runs_per_day"].items()],
        STATUSES,
        label="Runs per day by status",
    )
    fallback_points = [
        (d.strftime(day_fmt), (fb / total) if total else None)
        for d, (total, fb) in data["fallback_per_day"].items()
    ]
    fallback_chart = charts.line_chart(fallback_points, label="Fallback rate per day")
    cost_model_chart = charts.horizontal_bars(
        [(m, [float(c)]) for m, c, _ in data["cost_by_model"]], label="Cost by model", unit=" $"
    )
    cost_profile_chart = charts.horizontal_bars(
        [(p, [float(c)]) for p, c, _ in data["cost_by_profile"]],
        label="Cost by profile",
        unit=" $",
    )
    latency_chart = charts.horizontal_bars(
        [(row["model"], [row["p50"], row["p95"]]) for row in data["latency"]],
        series=["p50", "p95"],
        label="Latency by model",
        unit=" s",
    )
    files_chart = charts.horizontal_bars(
        [(state, [count]) for state, count in data["files_by_state"].items()],
        label="Remote files by state",
    )
    bytes_chart = charts.horizontal_bars(
        [(provider, [b / (1024 * 1024)]) for provider, b, _ in data["bytes_per_provider"]],
        label="Bytes held per provider",
        unit=" MiB",
    )
    saved_chart = charts.stacked_bars(
        [
            (d.strftime(day_fmt), {"saved": float(v)})
            for d, v in data["batches"]["saved_per_day"].items()
        ],
        ["saved"],
        label="Money saved by batch jobs per day",
    )
    totals = {s: sum(c[s] for c in data["runs_per_day"].values()) for s in STATUSES}
    succeeded = sum(t for t, _ in data["fallback_per_day"].values())
    fell_back = sum(f for _, f in data["fallback_per_day"].values())
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "ranges": list(RANGES),
        "range": window.key,
        "window": window,
        "data": data,
        "totals": totals,
        "fallback_total": (fell_back / succeeded) if succeeded else None,
        "total_cost": sum((c for _, c, _ in data["cost_by_model"]), Decimal(0)),
        "queue_age": _age(data["queue"]["oldest_queued_age_seconds"]),
        "bytes_rows": [(p, _human_bytes(b), b, n) for p, b, n in data["bytes_per_provider"]],
        "charts": {
            "runs": runs_chart,
            "fallback": fallback_chart,
            "cost_model": cost_model_chart,
            "cost_profile": cost_profile_chart,
            "latency": latency_chart,
            "files": files_chart,
            "bytes": bytes_chart,
            "saved": saved_chart,
        },
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


dashboard_view = admin.site.admin_view(dashboard)
