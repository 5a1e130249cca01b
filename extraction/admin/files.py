"""Admin for remote copies (UploadedFile): read-only, with "delete remote copy" and "reconcile"."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse

from extraction.models import UploadedFile
from extraction.services.cleanup import uploaded_file_delete_remote, uploaded_file_reconcile
from remorai.errors import ApplicationError


@admin.register(UploadedFile)
class UploadedFileAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "document",
        "route",
        "provider",
        "state",
        "size",
        "uploaded_at",
        "expires_at",
        "deleted_at",
    ]
    list_filter = ["state", "route", "provider", "uploaded_at"]
    list_select_related = ["document"]
    search_fields = ["remote_id", "document__original_name", "document__sha256"]
    date_hierarchy = "created_at"
    actions = ["delete_remote_copy_action", "reconcile_action"]
    readonly_fields = [
        "document",
        "route",
        "provider",
        "model_group",
        "remote_id",
        "bytes",
        "state",
        "uploaded_at",
        "expires_at",
        "deleted_at",
        "last_error",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False  # copies are made by extractions (the FileCache), never by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting the row would forget a file still held remotely

    def has_delete_remote_copy_permission(self, request):
        return request.user.has_perm("extraction.delete_remote_copy")

    def has_reconcile_permission(self, request):
        return request.user.has_perm("extraction.reconcile_remote_copy")

    @admin.display(description="size", ordering="bytes")
    def size(self, obj):
        return filesizeformat(obj.bytes)

    @admin.action(
        description="Delete remote copy at the provider…", permissions=["delete_remote_copy"]
    )
    def delete_remote_copy_action(self, request, queryset):
        copies = list(queryset.select_related("document"))
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "admin/extraction/ops/confirm_action.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Delete remote copies",
                    "question": "Delete these copies at their providers? A copy used by a "
                    "queued or running run is kept. A later run uploads the document again.",
                    "objects": copies,
                    "action": "delete_remote_copy_action",
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        deleted = 0
        for copy in copies:
            try:
                uploaded_file_delete_remote(uploaded_file=copy, reason="admin")
                deleted += 1
            except ApplicationError as exc:
                self.message_user(request, f"{copy}: {exc.detail}", messages.WARNING)
        self.message_user(request, f"Deleted {deleted} remote cop{'y' if deleted == 1 else 'ies'}.")
        return None

    @admin.action(description="Reconcile with the provider", permissions=["reconcile"])
    def reconcile_action(self, request, queryset):
        states = {}
        for copy in queryset:
            try:
                state = uploaded_file_reconcile(uploaded_file=copy)
            except Exception as exc:  # noqa: BLE001 - one provider's failure is reported, not fatal
                self.message_user(request, f"{copy}: {type(exc).__name__}", messages.WARNING)
                continue
            states[state] = states.get(state, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "nothing"
        self.message_user(request, f"Reconciled: {summary}.")
        return None
