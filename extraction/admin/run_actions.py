"""The run admin's actions and their pages: re-extract, cancel, retry, compare, review.

Every action is a POST, behind its own permission, and calls the same services as the API.
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from extraction import selectors
from extraction.admin.display import pretty
from extraction.admin.forms import ReextractForm, review_form_for
from extraction.admin.review_page import field_evidence, page_sizes
from extraction.evaluation import compare_results
from extraction.models import ExtractionRun, Trigger
from extraction.services.bulk import extraction_runs_redo
from extraction.services.review import InvalidReview, extraction_run_review
from extraction.services.runs import extraction_run_cancel, extraction_run_retry
from remorai.errors import ApplicationError

Status = ExtractionRun.Status


class RunActionsMixin:
    """The actions and extra pages of ExtractionRunAdmin (it supplies the permissions)."""

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
                self._reextract_apply(request, runs, form.cleaned_data)
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

    def _reextract_apply(self, request, runs, data):
        as_batch = data["as_batch"]
        try:
            summary = extraction_runs_redo(
                runs=runs,
                profile=data["profile"],
                model=data["model"] or None,
                transport=data["transport"],
                requested_by=request.user,
                trigger=Trigger.ADMIN,
                provider_batch=as_batch,
            )
        except ApplicationError as exc:
            self.message_user(request, f"Nothing started: {exc.detail}", messages.ERROR)
            return
        if summary.created:
            how = " as provider batch jobs (up to 24 h)" if as_batch else ""
            self.message_user(request, f"Started {summary.created} extraction(s){how}.")
        if summary.skipped_conflict:
            self.message_user(
                request,
                f"{summary.skipped_conflict} skipped: an extraction of that document with that "
                "profile is already queued or running.",
                messages.WARNING,
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
            right = selectors.run_previous_succeeded(run=left)
            if right is None:
                self.message_user(
                    request, "No earlier succeeded run of this document and profile to compare."
                )
                return HttpResponseRedirect(
                    reverse("admin:extraction_extractionrun_change", args=[left.pk])
                )
        use_reviewed = request.GET.get("reviewed") == "1"
        left_data = (left.reviewed_result if use_reviewed else None) or left.result
        rows = compare_results(left_data, right.result)
        for row in rows:
            row["left_json"] = pretty(row["left"])
            row["right_json"] = pretty(row["right"])
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
        rows = [
            {
                "field": form[name],
                "original": pretty((run.result or {}).get(name)),
                **field_evidence(evidence=run.evidence, field=name),
            }
            for name in form.fields
        ]
        pages = page_sizes(document=run.document)
        return TemplateResponse(
            request,
            "admin/extraction/ops/review.html",
            self._context(
                request,
                title="Review run",
                run=run,
                form=form,
                rows=rows,
                pages=pages,
                page_count=run.document.page_count or len(pages) or 1,
                locations={row["field"].name: row["locations"] for row in rows},
            ),
        )


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such run.") from None
