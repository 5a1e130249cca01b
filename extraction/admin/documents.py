"""Admin: documents (upload through the intake service; every other field read-only)."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html

from extraction.admin.display import run_link, short_name, simulated_badge, when
from extraction.admin.forms import DocumentUploadForm
from extraction.downloads import document_download
from extraction.models import Document, ExtractionRun, Trigger, UploadedFile
from extraction.services.documents import document_delete
from extraction.services.intake import document_ingest
from extraction.services.runs import extraction_run_enqueue
from remorai.errors import ApplicationError


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
        return run_link(obj)

    @admin.display(description="simulated")
    def simulated_flag(self, obj):
        return simulated_badge(obj) or "no"

    @admin.display(description="when")
    def when(self, obj):
        return when(obj.finished_at or obj.created_at)


class UploadedFileInline(ReadOnlyInline):
    model = UploadedFile
    verbose_name = "remote copy"
    verbose_name_plural = "remote copies"
    fields = ["route", "provider", "remote_id", "bytes", "state", "uploaded_at", "expires_at"]
    readonly_fields = fields


class EmbeddedInvoiceFilter(admin.SimpleListFilter):
    title = "embedded e-invoice"
    parameter_name = "embedded_invoice"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(embedded_invoice__isnull=False)
        if self.value() == "no":
            return queryset.filter(embedded_invoice__isnull=True)
        return queryset


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "page_count",
        "size",
        "is_encrypted",
        "e_invoice",
        "created",
    ]
    list_filter = [
        "is_encrypted",
        EmbeddedInvoiceFilter,
        "created_at",
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["owner"]
    search_fields = ["original_name", "sha256", "owner__username"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    details = [
        "id",
        "original_name",
        "owner",
        "download",
        "sha256",
        "size",
        "page_count",
        "is_encrypted",
        "embedded_invoice_details",
        "created_at",
    ]

    @admin.display(description="e-invoice")
    def e_invoice(self, document):
        found = document.embedded_invoice
        if not found:
            return "-"
        return " ".join(filter(None, [found.get("standard"), found.get("profile")]))

    @admin.display(description="embedded e-invoice")
    def embedded_invoice_details(self, document):
        found = document.embedded_invoice
        if not found:
            return "none"
        return format_html(
            "{} ({}), profile {}<br>{} · {}",
            found.get("standard"),
            found.get("syntax"),
            found.get("profile") or "unknown",
            found.get("filename"),
            found.get("guideline"),
        )

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at)

    @admin.display(description="original name", ordering="original_name")
    def name(self, obj):
        return short_name(obj.original_name, 60)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Nothing on a document's page is editable: no Save buttons (Delete stays).
        extra = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DocumentUploadForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.request = request
            form.refused = getattr(request, "upload_refused", None)
        return form

    def add_view(self, request, form_url="", extra_context=None):
        """A valid upload goes to the intake service here, once; a refusal is shown on the
        form (rendered by the standard add view, which validates the form again)."""
        if request.method == "POST" and self.has_add_permission(request):
            form = self.get_form(request)(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    document, created = document_ingest(owner=data["owner"], upload=data["upload"])
                except ApplicationError as exc:
                    request.upload_refused = exc
                else:
                    return self._uploaded(request, document, created, data)
        return super().add_view(request, form_url, extra_context)

    def _uploaded(self, request, document, created, data):
        if not created:
            self.message_user(
                request,
                "This PDF was already uploaded for this owner: showing the existing document.",
                messages.WARNING,
            )
        else:
            self.log_addition(request, document, [{"added": {}}])
        profile = data.get("extract_with")
        if profile is not None:
            try:
                extraction_run_enqueue(
                    document=document,
                    profile=profile,
                    model=data.get("model") or None,
                    trigger=Trigger.ADMIN,
                    requested_by=request.user,
                )
            except ApplicationError as exc:
                self.message_user(request, f"Extraction not started: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"Extraction with {profile} started.")
        return self.response_add(request, document)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["owner", "upload", "extract_with", "model"]})]
        return [(None, {"fields": self.details}), ("PDF metadata", {"fields": ["metadata"]})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.details, "metadata"]

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        pass  # nothing on the change page is editable; uploads are stored by add_view

    def get_inlines(self, request, obj):
        return [ExtractionRunInline, UploadedFileInline] if obj is not None else []

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        document_delete(document=obj)

    def delete_queryset(self, request, queryset):
        for document in queryset:
            document_delete(document=document)

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @admin.display(description="file")
    def download(self, obj):
        url = reverse("admin:extraction_document_file", kwargs={"document_id": obj.id})
        return format_html('<a href="{}">{}</a>', url, obj.file.name)

    def get_urls(self):
        download = path(
            "<uuid:document_id>/file/",
            self.admin_site.admin_view(self.file_view),
            name="extraction_document_file",
        )
        return [download, *super().get_urls()]

    def file_view(self, request, document_id):
        document = get_object_or_404(Document, pk=document_id)
        if not self.has_view_permission(request, document):
            raise PermissionDenied
        return document_download(document)

    @admin.display(description="metadata")
    def metadata(self, obj):
        text = json.dumps(obj.pdf_metadata, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", text)
