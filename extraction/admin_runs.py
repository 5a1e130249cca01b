"""Admin for extraction runs: history, actions (re-extract, cancel, retry), comparison, review.

Every action is a POST, behind its own permission, and calls the same services as the API.
"""

from __future__ import annotations

import json
import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from extraction.evaluation import compare_results
from extraction.models import (
    ExtractionProfile,
    ExtractionRun,
    Transport,
    Trigger,
    UploadedFile,
)
from extraction.services.review import InvalidReview, extraction_run_review
from extraction.services.runs import (
    extraction_run_cancel,
    extraction_run_enqueue,
    extraction_run_retry,
)
from remorai.errors import ApplicationError

Status = ExtractionRun.Status


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _run_link(run) -> str:
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


def model_choices(blank_label: str = "(the profile's default model)"):
    return [("", blank_label), *[(m, m) for m in getattr(settings, "LLM_MODELS", {})]]


# --- Document page inlines ------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExtractionRunInline(ReadOnlyInline):
    model = ExtractionRun
    fk_name = "document"
    verbose_name = "extraction run"
    verbose_name_plural = "extraction runs (history)"
    fields = [
        "run",
        "status",
        "profile",
        "model_used",
        "route",
        "cost_usd",
        "simulated_flag",
        "when",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("profile")

    @admin.display(description="run")
    def run(self, obj):
        return _run_link(obj)

    @admin.display(description="simulated")
    def simulated_flag(self, obj):
        return simulated_badge(obj) or "no"

    @admin.display(description="when")
    def when(self, obj):
        return obj.finished_at or obj.created_at


class UploadedFileInline(ReadOnlyInline):
    model = UploadedFile
    verbose_name = "remote copy"
    verbose_name_plural = "remote copies"
    fields = ["route", "provider", "remote_id", "bytes", "state", "uploaded_at", "expires_at"]
    readonly_fields = fields


# --- Filters ----------------------------------------------------------------------------------


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


# --- Forms ------------------------------------------------------------------------------------


class ReextractForm(forms.Form):
    profile = forms.ModelChoiceField(
        queryset=ExtractionProfile.objects.all(),
        required=False,
        empty_label="(each run's own profile)",
    )
    model = forms.ChoiceField(choices=model_choices, required=False)
    transport = forms.ChoiceField(choices=Transport.choices, initial=Transport.FILE)


# --- The run admin ------------------------------------------------------------------------------


@admin.register(ExtractionRun)
class ExtractionRunAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "document",
        "profile",
        "status",
        "model_used",
        "route",
        "trigger",
        "cost_usd",
        "simulated_flag",
        "created_at",
    ]
    list_filter = [
        "status",
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
                ]
            },
        ),
        (
            "Model and route",
            {"fields": ["requested_model", "fallback_models", "transport", "model_used", "route"]},
        ),
        ("Result", {"fields": ["result_pretty", "review_summary"]}),
        ("Attempts", {"fields": ["attempts_table"]}),
        (
            "Usage and cost",
            {"fields": ["input_tokens", "output_tokens", "document_tokens", "cost_usd"]},
        ),
        ("Error", {"fields": ["error_code", "error_message", "raw_output"]}),
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
            {"classes": ["collapse"], "fields": ["instructions", "schema_pretty"]},
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for _, opts in self.fieldsets for f in opts["fields"]]

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

    @admin.display(description="simulated", boolean=False, ordering="simulated")
    def simulated_flag(self, obj):
        return simulated_badge(obj) or "no"

    @admin.display(description="document")
    def document_link(self, obj):
        url = reverse("admin:extraction_document_change", args=[obj.document_id])
        return format_html('<a href="{}">{}</a>', url, obj.document)

    @admin.display(description="re-does")
    def redo_of_link(self, obj):
        return _run_link(obj.redo_of) if obj.redo_of_id else "-"

    @admin.display(description="result")
    def result_pretty(self, obj):
        if obj.result is None:
            return "-"
        return format_html('<pre class="run-result">{}</pre>', _pretty(obj.result))

    @admin.display(description="schema")
    def schema_pretty(self, obj):
        return format_html("<pre>{}</pre>", _pretty(obj.schema))

    @admin.display(description="human review")
    def review_summary(self, obj):
        if obj.reviewed_result is None:
            return "not reviewed"
        return format_html(
            "reviewed by {} at {}<pre class='run-reviewed-result'>{}</pre>",
            obj.reviewer or "(deleted user)",
            obj.reviewed_at,
            _pretty(obj.reviewed_result),
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
                    a.started_at,
                    a.operation,
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
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra = extra_context or {}
        if run is not None:
            previous = (
                ExtractionRun.objects.filter(document_id=run.document_id, status=Status.SUCCEEDED)
                .exclude(pk=run.pk)
                .order_by("-created_at")
                .first()
            )
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

    def _context(self, request, **kwargs):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            **kwargs,
        }

    def _runs_from(self, request, run_id=None):
        if run_id is not None:
            return ExtractionRun.objects.filter(pk=run_id)
        return ExtractionRun.objects.filter(pk__in=request.POST.getlist(ACTION_CHECKBOX_NAME))

    def _done(self, request, run_id=None):
        if run_id is not None:
            return HttpResponseRedirect(
                reverse("admin:extraction_extractionrun_change", args=[run_id])
            )
        return None  # back to the changelist

    # --- re-extract -------------------------------------------------------------------------

    def _reextract(self, request, queryset, run_id=None):
        if not self.has_reextract_permission(request):
            raise PermissionDenied
        runs = queryset.select_related("document", "profile")
        if request.method == "POST" and "apply" in request.POST:
            form = ReextractForm(request.POST)
            if form.is_valid():
                started, refused = 0, []
                for run in runs:
                    try:
                        extraction_run_enqueue(
                            document=run.document,
                            profile=form.cleaned_data["profile"] or run.profile,
                            model=form.cleaned_data["model"] or None,
                            transport=form.cleaned_data["transport"],
                            trigger=Trigger.ADMIN,
                            requested_by=request.user,
                            redo_of=run,
                        )
                        started += 1
                    except ApplicationError as exc:
                        refused.append(f"{run.document}: {exc.detail}")
                if started:
                    self.message_user(request, f"Started {started} extraction(s).")
                for text in refused:
                    self.message_user(request, text, messages.WARNING)
                return self._done(request, run_id)
        else:
            form = ReextractForm()
        return TemplateResponse(
            request,
            "admin/extraction/ops/reextract_form.html",
            self._context(
                request,
                title="Re-extract",
                form=form,
                runs=runs,
                action="reextract_action",
                single=run_id,
            ),
        )

    @admin.action(description="Re-extract selected runs' documents…", permissions=["reextract"])
    def reextract_action(self, request, queryset):
        return self._reextract(request, queryset)

    def reextract_view(self, request, run_id):
        get_object_or_404(ExtractionRun, pk=run_id)
        return self._reextract(request, self._runs_from(request, run_id), run_id)

    # --- cancel -----------------------------------------------------------------------------

    def _confirm(self, request, *, runs, title, question, action, run_id):
        return TemplateResponse(
            request,
            "admin/extraction/ops/confirm_action.html",
            self._context(
                request,
                title=title,
                question=question,
                objects=runs,
                action=action,
                single=run_id,
            ),
        )

    def _cancel(self, request, queryset, run_id=None):
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        runs = list(queryset.filter(status__in=ExtractionRun.ACTIVE_STATUSES))
        if request.method == "POST" and "confirm" in request.POST:
            done = 0
            for run in runs:
                try:
                    extraction_run_cancel(run=run)
                    done += 1
                except ApplicationError as exc:
                    self.message_user(request, f"{run.pk}: {exc.detail}", messages.WARNING)
            self.message_user(request, f"Cancelled (or asked to stop) {done} run(s).")
            return self._done(request, run_id)
        if not runs:
            self.message_user(request, "No queued or running run selected.", messages.WARNING)
            return self._done(request, run_id)
        return self._confirm(
            request,
            runs=runs,
            title="Cancel runs",
            question="Cancel these runs? Queued runs stop at once; running ones at their next "
            "check. Their partial work is discarded.",
            action="cancel_action",
            run_id=run_id,
        )

    @admin.action(description="Cancel selected queued/running runs…", permissions=["cancel"])
    def cancel_action(self, request, queryset):
        return self._cancel(request, queryset)

    def cancel_view(self, request, run_id):
        get_object_or_404(ExtractionRun, pk=run_id)
        return self._cancel(request, self._runs_from(request, run_id), run_id)

    # --- retry ------------------------------------------------------------------------------

    def _retry(self, request, queryset, run_id=None):
        if not self.has_retry_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:extraction_extractionrun_change", args=[run_id])
            )
        started = 0
        for run in queryset.filter(status=Status.FAILED).select_related("document", "profile"):
            try:
                extraction_run_retry(run=run, trigger=Trigger.ADMIN, requested_by=request.user)
                started += 1
            except ApplicationError as exc:
                self.message_user(request, f"{run.document}: {exc.detail}", messages.WARNING)
        self.message_user(request, f"Retried {started} failed run(s).")
        return self._done(request, run_id)

    @admin.action(description="Retry selected failed runs", permissions=["retry"])
    def retry_failed_action(self, request, queryset):
        return self._retry(request, queryset)

    def retry_view(self, request, run_id):
        get_object_or_404(ExtractionRun, pk=run_id)
        return self._retry(request, self._runs_from(request, run_id), run_id)

    # --- comparison -------------------------------------------------------------------------

    @admin.action(description="Compare two selected runs side by side", permissions=["view"])
    def compare_action(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Select exactly two runs to compare.", messages.WARNING)
            return None
        url = reverse("admin:extraction_extractionrun_compare")
        return HttpResponseRedirect(f"{url}?left={ids[0]}&right={ids[1]}")

    def compare_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        left = get_object_or_404(ExtractionRun, pk=_uuid_or_404(request.GET.get("left")))
        right_id = request.GET.get("right")
        if right_id:
            right = get_object_or_404(ExtractionRun, pk=_uuid_or_404(right_id))
        else:
            right = (
                ExtractionRun.objects.filter(document_id=left.document_id, status=Status.SUCCEEDED)
                .exclude(pk=left.pk)
                .order_by("-created_at")
                .first()
            )
            if right is None:
                self.message_user(request, "No other succeeded run of this document to compare.")
                return HttpResponseRedirect(
                    reverse("admin:extraction_extractionrun_change", args=[left.pk])
                )
        use_reviewed = request.GET.get("reviewed") == "1"
        left_data = (left.reviewed_result if use_reviewed else None) or left.result
        rows = compare_results(left_data, right.result)
        for row in rows:
            row["left_json"] = _pretty(row["left"])
            row["right_json"] = _pretty(row["right"])
        others = ExtractionRun.objects.filter(
            Q(document_id=left.document_id) | Q(document_id=right.document_id)
        ).order_by("-created_at")
        return TemplateResponse(
            request,
            "admin/extraction/ops/compare.html",
            self._context(
                request,
                title="Compare runs",
                left=left,
                right=right,
                rows=rows,
                differences=sum(1 for r in rows if not r["exact"]),
                same_document=left.document_id == right.document_id,
                others=others[:50],
                use_reviewed=use_reviewed,
            ),
        )

    # --- human review -----------------------------------------------------------------------

    def review_view(self, request, run_id):
        if not self.has_review_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ExtractionRun.objects.select_related("document"), pk=run_id)
        if run.status != Status.SUCCEEDED:
            self.message_user(request, "Only a succeeded run can be reviewed.", messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:extraction_extractionrun_change", args=[run.pk])
            )
        form_class = review_form_for(run)
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    extraction_run_review(
                        run=run, reviewed_result=form.reviewed_result(), reviewer=request.user
                    )
                except InvalidReview as exc:
                    for error in exc.fields.get("errors", []):
                        field = error["field"].split("/")[0]
                        form.add_error(field if field in form.fields else None, error["message"])
                else:
                    self.message_user(request, "Review saved beside the model's output.")
                    return HttpResponseRedirect(
                        reverse("admin:extraction_extractionrun_change", args=[run.pk])
                    )
        else:
            form = form_class()
        rows = [(form[name], _pretty((run.result or {}).get(name))) for name in form.fields]
        return TemplateResponse(
            request,
            "admin/extraction/ops/review.html",
            self._context(request, title="Review run", run=run, form=form, rows=rows),
        )


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such run.") from None


def _types(spec) -> set[str]:
    kind = (spec or {}).get("type", [])
    return set(kind if isinstance(kind, list) else [kind])


class _ReviewFormBase(forms.Form):
    specs: dict = {}

    def reviewed_result(self) -> dict:
        return dict(self.cleaned_data)


def _coerce(text: str, spec: dict):
    """A reviewer's text as the JSON value the schema expects for the field."""
    types = _types(spec)
    text = text.strip()
    if text == "" and ("null" in types or not types):
        return None
    if types & {"array", "object"} or not types:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if not types:
                return text
            raise forms.ValidationError(f"Enter JSON ({exc.msg}).") from exc
    if types & {"number", "integer"} and "string" not in types:
        try:
            number = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError("Enter a number.") from exc
        return number
    if "boolean" in types and "string" not in types:
        return text.lower() in ("true", "1", "yes")
    return text


class _ReviewField(forms.CharField):
    def __init__(self, *, spec, **kwargs):
        self.spec = spec if isinstance(spec, dict) else {}
        super().__init__(**kwargs)

    def clean(self, value):
        return _coerce(super().clean(value), self.spec)


def review_form_for(run: ExtractionRun) -> type[forms.Form]:
    """A form with one field per top-level property of the run's schema."""
    properties = (run.schema or {}).get("properties") or {
        k: {} for k in (run.result or {}) if isinstance(run.result, dict)
    }
    current = run.reviewed_result if run.reviewed_result is not None else (run.result or {})
    fields = {}
    for name, spec in properties.items():
        value = current.get(name) if isinstance(current, dict) else None
        types = _types(spec)
        if value is None:
            initial = ""
        elif types & {"array", "object"} or not isinstance(value, str):
            initial = json.dumps(value, ensure_ascii=False, indent=1)
        else:
            initial = value
        widget = (
            forms.Textarea(attrs={"rows": 4, "cols": 60})
            if types & {"array", "object"}
            else forms.TextInput(attrs={"size": 60})
        )

        field = _ReviewField(
            spec=spec,
            required=False,
            initial=initial,
            widget=widget,
            strip=False,
            help_text=spec.get("description", "") if isinstance(spec, dict) else "",
        )
        fields[name] = field
    return type("ReviewForm", (_ReviewFormBase,), {**fields, "specs": properties})
