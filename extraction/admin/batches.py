"""Admin for provider batch jobs (ExtractionBatch): read-only; a job is made by `reextract
--batch` or the re-extract form's "as a batch job", and moved on by the batch poll."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html

from extraction.admin.display import simulated_badge
from extraction.models import ExtractionBatch, ExtractionRun
from extraction.services.batches import extraction_batch_cancel


@admin.register(ExtractionBatch)
class ExtractionBatchAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "provider",
        "model",
        "status",
        "item_count",
        "succeeded_count",
        "requeued_count",
        "cost_usd",
        "savings_usd",
        "submitted_at",
        "finished_at",
        "simulated_flag",
    ]
    list_filter = ["status", "provider", "model", "created_at"]
    search_fields = ["remote_id", "model"]
    date_hierarchy = "created_at"
    actions = ["cancel_action"]
    readonly_fields = [
        "provider",
        "model",
        "route",
        "remote_id",
        "input_file_id",
        "status",
        "item_count",
        "succeeded_count",
        "requeued_count",
        "ignored_count",
        "cost_usd",
        "savings_usd",
        "created_at",
        "submitted_at",
        "finished_at",
        "next_poll_at",
        "poll_count",
        "error_message",
        "simulated_flag",
        "runs_link",
    ]

    def get_queryset(self, request):
        # a job the provider simulator answered (make run, tests) is labelled like its runs
        simulated = ExtractionRun.objects.filter(batch=OuterRef("pk"), simulated=True)
        return super().get_queryset(request).annotate(simulated=Exists(simulated))

    @admin.display(description="simulated")
    def simulated_flag(self, batch):
        title = "This job was answered by the provider simulator"
        return simulated_badge(batch, title) or "no"

    @admin.display(description="runs")
    def runs_link(self, batch):
        url = reverse("admin:extraction_extractionrun_changelist") + f"?batch__id__exact={batch.pk}"
        return format_html('<a href="{}">{} runs</a>', url, batch.runs.count())

    @admin.action(description="Cancel the runs waiting in these batch jobs", permissions=["cancel"])
    def cancel_action(self, request, queryset):
        cancelled = sum(extraction_batch_cancel(batch=batch) for batch in queryset)
        self.message_user(
            request,
            f"Cancelled {cancelled} run(s); the next poll cancels each job at its provider.",
            messages.SUCCESS,
        )

    def has_cancel_permission(self, request):
        return request.user.has_perm("extraction.cancel_run")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # its runs point at it; the job may still run at the provider
