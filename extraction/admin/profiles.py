"""Admin for extraction profiles: editable, schema validated, version bumped on every change."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from extraction.admin.forms import ExtractionProfileForm
from extraction.models import ExtractionProfile
from extraction.services.profiles import (
    _VERSIONED_FIELDS,
    extraction_profile_create,
    extraction_profile_update,
)


@admin.register(ExtractionProfile)
class ExtractionProfileAdmin(admin.ModelAdmin):
    form = ExtractionProfileForm
    list_display = ["slug", "name", "default_model", "model_retirement", "version", "updated_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["version", "model_retirement", "created_at", "updated_at"]

    @admin.display(description="retired or retiring models")
    def model_retirement(self, obj):
        from llm.model_users import retiring_models  # within 30 days

        notes = retiring_models([obj.default_model, *(obj.fallback_models or [])])
        return (
            format_html_join(
                mark_safe("<br>"), '<span style="color:#ba2121">{}</span>', ((n,) for n in notes)
            )
            if notes
            else "-"
        )

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def save_form(self, request, form, change):
        return form.instance  # saved by the service in save_model

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in _VERSIONED_FIELDS if f in form.cleaned_data}
        if change:
            saved = extraction_profile_update(profile=obj, **data)
        else:
            saved = extraction_profile_create(slug=form.cleaned_data["slug"], **data)
        obj.pk, obj.version = saved.pk, saved.version

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines; the service saved everything

    def has_delete_permission(self, request, obj=None):
        # Runs keep a PROTECTed reference; a profile with runs cannot be deleted anyway.
        if obj is not None and obj.runs.exists():
            return False
        return super().has_delete_permission(request, obj)
