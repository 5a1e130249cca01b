"""Admin for extraction runs: history, filters, the run page (actions: admin/run_actions.py)."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from extraction import selectors
from extraction.admin.display import duration, pretty, run_link, short_name, simulated_badge, when
from extraction.admin.review_page import ReviewPageMixin
from extraction.admin.run_actions import RunActionsMixin
from extraction.models import ExtractionRun

Status = ExtractionRun.Status


class _DistinctValueFilter(admin.SimpleListFilter):
    field_name = ""

    def lookups(self, request, model_admin):
        values = (
            ExtractionRun.objects.exclude(**{self.field_name: ""})
            .order_by(self.field_name)
            .values_list(self.field_name, flat=True)
            .distinct()
        )
        return [(v, v) for v in values]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_name: self.value()})
        return queryset


class ModelUsedFilter(_DistinctValueFilter):
    title = "model used"
    parameter_name = "model_used"
    field_name = "model_used"


class RequestedModelFilter(_DistinctValueFilter):
    title = "model requested"
    parameter_name = "requested_model"
    field_name = "requested_model"


@admin.register(ExtractionRun)
class ExtractionRunAdmin(RunActionsMixin, ReviewPageMixin, admin.ModelAdmin):
    # What fits at 1,366 px beside the filters; route, trigger and transport are filters.
    list_display = [
        "short_id",
        "status",
        "document_name",
        "profile",
        "model_column",
        "created",
        "run_duration",
        "cost_usd",
        "needs_review",
        "error_code_column",
    ]
    list_filter = [
        "status",
        "needs_review",
        "profile",
        ModelUsedFilter,
        RequestedModelFilter,
        "route",
        "trigger",
        "transport",
        "simulated",
        "created_at",
    ]
    list_select_related = ["document", "profile"]
    search_fields = [
        "=id",
        "document__original_name",
        "document__sha256",
        "error_code",
        "error_message",
        "requested_model",
        "model_used",
    ]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["reextract_action", "cancel_action", "retry_failed_action", "compare_action"]
    change_form_template = "admin/extraction/extractionrun/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "document_link",
                    "profile",
                    "profile_version",
                    "status",
                    "simulated_flag",
                    "trigger",
                    "requested_by",
                    "redo_of_link",
                    "batch",
                ]
            },
        ),
        (
            "Model and route",
            {
                "fields": [
                    "requested_model",
                    "fallback_models",
                    "transport",
                    "source",
                    "model_used",
                    "route",
                ]
            },
        ),
        ("Result", {"fields": ["result_pretty", "review_summary", "segments_pretty"]}),
        (
            "Verification",
            {"fields": ["needs_review", "verification", "checks_pretty", "evidence_pretty"]},
        ),
        ("Attempts", {"fields": ["attempts_table"]}),
        (
            "Usage and cost",
            {"fields": ["input_tokens", "output_tokens", "document_tokens", "cost_usd"]},
        ),
        ("Error", {"fields": ["error_code", "error_message", "warnings", "raw_output"]}),
        (
            "Timing",
            {
                "fields": [
                    "created_at",
                    "queued_at",
                    "started_at",
                    "finished_at",
                    "not_before",
                    "attempt_count",
                    "cancel_requested",
                ]
            },
        ),
        (
            "Snapshot of the profile",
            {
                "classes": ["collapse"],
                "fields": ["instructions", "schema_pretty", "segmenting_pretty"],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for _, opts in self.fieldsets for f in opts["fields"]]

    def lookup_allowed(self, lookup, value, request=None):
        # a batch job's page links to its runs (too many batches for a list filter)
        return lookup == "batch__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False  # runs are started from a document (or re-extracted from a run)

    def has_change_permission(self, request, obj=None):
        return False  # the history is read-only; changes happen through the actions

    def has_delete_permission(self, request, obj=None):
        return False  # the history is kept; runs go only with their document

    def has_reextract_permission(self, request):
        return request.user.has_perm("extraction.reextract_run")

    def has_cancel_permission(self, request):
        return request.user.has_perm("extraction.cancel_run")

    def has_retry_permission(self, request):
        return request.user.has_perm("extraction.retry_run")

    def has_review_permission(self, request):
        return request.user.has_perm("extraction.review_run")

    # --- display --------------------------------------------------------------------------

    @admin.display(description="run", ordering="created_at")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="document", ordering="document__original_name")
    def document_name(self, obj):
        return short_name(obj.document.original_name)

    @admin.display(description="model", ordering="model_used")
    def model_column(self, obj):
        model = obj.model_used or obj.requested_model
        if obj.simulated:
            return format_html("{} {}", model, simulated_badge(obj))
        return model

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at)

    @admin.display(description="duration")
    def run_duration(self, obj):
        return duration(obj)

    @admin.display(description="error code", ordering="error_code")
    def error_code_column(self, obj):
        return obj.error_code or "-"

    @admin.display(description="simulated", boolean=False, ordering="simulated")
    def simulated_flag(self, obj):
        return simulated_badge(obj) or "no"

    @admin.display(description="document")
    def document_link(self, obj):
        url = reverse("admin:extraction_document_change", args=[obj.document_id])
        return format_html('<a href="{}">{}</a>', url, obj.document)

    @admin.display(description="re-does")
    def redo_of_link(self, obj):
        return run_link(obj.redo_of) if obj.redo_of_id else "-"

    @admin.display(description="result")
    def result_pretty(self, obj):
        if obj.result is None:
            return "-"
        return format_html('<pre class="run-result">{}</pre>', pretty(obj.result))

    @admin.display(description="checks")
    def checks_pretty(self, obj):
        return format_html("<pre>{}</pre>", pretty(obj.checks)) if obj.checks else "-"

    @admin.display(description="evidence")
    def evidence_pretty(self, obj):
        if obj.evidence is None:
            return "-"
        return format_html('<pre class="run-evidence">{}</pre>', pretty(obj.evidence))

    @admin.display(description="schema")
    def schema_pretty(self, obj):
        return format_html("<pre>{}</pre>", pretty(obj.schema))

    @admin.display(description="segments (long document)")
    def segments_pretty(self, obj):
        return format_html("<pre>{}</pre>", pretty(obj.segments)) if obj.segments else "-"

    @admin.display(description="segmenting")
    def segmenting_pretty(self, obj):
        return format_html("<pre>{}</pre>", pretty(obj.segmenting)) if obj.segmenting else "{}"

    @admin.display(description="human review")
    def review_summary(self, obj):
        if obj.reviewed_result is None:
            return "not reviewed"
        return format_html(
            "reviewed by {} at {}<pre class='run-reviewed-result'>{}</pre>",
            obj.reviewer or "(deleted user)",
            when(obj.reviewed_at),
            pretty(obj.reviewed_result),
        )

    @admin.display(description="attempts")
    def attempts_table(self, obj):
        attempts = list(obj.attempts.all())
        if not attempts:
            return "none"
        head = (
            "<tr><th>started</th><th>operation</th><th>route</th><th>provider</th><th>model</th>"
            "<th>outcome</th><th>HTTP</th><th>latency ms</th><th>tokens in/out</th>"
            "<th>cost</th><th>error</th></tr>"
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}/{}</td><td>{}</td><td>{} {}</td></tr>",
            (
                (
                    date_format(timezone.localtime(a.started_at), "H:i:s"),
                    f"{a.operation} (pages {a.pages})" if a.pages else a.operation,
                    a.route,
                    a.provider,
                    a.model,
                    a.outcome,
                    a.http_status or "",
                    a.latency_ms,
                    a.input_tokens if a.input_tokens is not None else "-",
                    a.output_tokens if a.output_tokens is not None else "-",
                    a.cost_usd if a.cost_usd is not None else "",
                    a.error_code,
                    a.error_message,
                )
                for a in attempts
            ),
        )
        return format_html('<table class="run-attempts">{}{}</table>', mark_safe(head), rows)  # noqa: S308

    # --- URLs -------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = "extraction_extractionrun"
        return [
            path("compare/", wrap(self.compare_view), name=f"{info}_compare"),
            path("<uuid:run_id>/reextract/", wrap(self.reextract_view), name=f"{info}_reextract"),
            path("<uuid:run_id>/cancel/", wrap(self.cancel_view), name=f"{info}_cancel"),
            path("<uuid:run_id>/retry/", wrap(self.retry_view), name=f"{info}_retry"),
            path("<uuid:run_id>/review/", wrap(self.review_view), name=f"{info}_review"),
            path(
                "<uuid:run_id>/review/page/<int:page>.png",
                wrap(self.review_page_view),
                name=f"{info}_review_page",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra = extra_context or {}
        if run is not None:
            previous = selectors.run_previous_succeeded(run=run)
            extra.update(
                run=run,
                previous_run=previous,
                can_reextract=self.has_reextract_permission(request),
                can_cancel=self.has_cancel_permission(request)
                and run.status in ExtractionRun.ACTIVE_STATUSES,
                can_retry=self.has_retry_permission(request) and run.status == Status.FAILED,
                can_review=self.has_review_permission(request) and run.status == Status.SUCCEEDED,
            )
        return super().change_view(request, object_id, form_url, extra)
