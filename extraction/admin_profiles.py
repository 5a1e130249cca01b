"""Admin for extraction profiles: editable, schema validated, version bumped on every change."""

import json

from django import forms
from django.contrib import admin

from extraction.models import ExtractionProfile
from extraction.services.profiles import (
    _VERSIONED_FIELDS,
    extraction_profile_create,
    extraction_profile_update,
    model_check,
    profile_schema_check,
)
from remorai.errors import ApplicationError


class PrettyJSONWidget(forms.Textarea):
    def format_value(self, value):
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except (TypeError, ValueError):
            return value


class ExtractionProfileForm(forms.ModelForm):
    class Meta:
        model = ExtractionProfile
        fields = ["slug", "name", "instructions", "schema", "default_model", "fallback_models"]
        widgets = {
            "schema": PrettyJSONWidget(attrs={"rows": 20, "cols": 90}),
            "fallback_models": forms.Textarea(attrs={"rows": 2, "cols": 90}),
        }

    def clean_schema(self):
        schema = self.cleaned_data.get("schema")
        try:
            profile_schema_check(schema=schema)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc
        return schema

    def clean_default_model(self):
        model = self.cleaned_data.get("default_model")
        try:
            model_check(model=model)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.detail) from exc
        return model

    def clean_fallback_models(self):
        models = self.cleaned_data.get("fallback_models") or []
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise forms.ValidationError('Enter a JSON list of model names, e.g. ["openai/gpt-4o"].')
        for model in models:
            try:
                model_check(model=model)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.detail) from exc
        return models


@admin.register(ExtractionProfile)
class ExtractionProfileAdmin(admin.ModelAdmin):
    form = ExtractionProfileForm
    list_display = ["slug", "name", "default_model", "version", "updated_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["version", "created_at", "updated_at"]

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
