"""The forms of the extraction admin: upload, re-extract, profile, human review."""

import json

from django import forms
from django.core.exceptions import ValidationError

from extraction.errors import UploadTooLarge
from extraction.models import Document, ExtractionProfile, ExtractionRun, Transport
from extraction.services.profiles import (
    model_check,
    profile_checks_check,
    profile_schema_check,
    profile_segmenting_check,
)
from extraction.uploads import request_upload_too_large
from remorai.errors import ApplicationError


def model_choices(blank_label: str = "(the profile's default model)"):
    from llm.catalog import model_names  # enabled and not retired

    return [("", blank_label), *[(m, m) for m in model_names()]]


class DocumentUploadForm(forms.ModelForm):
    """Add form: an owner and a PDF. Validating it stores nothing: DocumentAdmin.add_view hands
    the PDF to the intake service, and an intake refusal comes back here as the upload's error."""

    upload = forms.FileField(label="PDF", help_text="Checked and stored exactly as API uploads.")
    extract_with = forms.ModelChoiceField(
        queryset=ExtractionProfile.objects.all(),
        required=False,
        label="Start an extraction with",
        empty_label="(no extraction now)",
    )
    model = forms.ChoiceField(choices=model_choices, required=False)
    request = None  # set per request by DocumentAdmin.get_form
    refused: ApplicationError | None = None  # the intake's refusal of this upload, if any

    class Meta:
        model = Document
        fields = ["owner"]

    def clean(self):
        cleaned = super().clean()
        if self.request is not None and request_upload_too_large(self.request):
            self._errors.pop("upload", None)  # "required": it was stopped for its size
            self.add_error("upload", ValidationError(UploadTooLarge().detail, code="too_large"))
            return cleaned
        if self.refused is not None:
            self.add_error("upload", ValidationError(self.refused.detail, code=self.refused.code))
        return cleaned


class ReextractForm(forms.Form):
    profile = forms.ModelChoiceField(
        queryset=ExtractionProfile.objects.all(),
        required=False,
        empty_label="(each run's own profile)",
    )
    model = forms.ChoiceField(choices=model_choices, required=False)
    transport = forms.ChoiceField(choices=Transport.choices, initial=Transport.FILE)
    as_batch = forms.BooleanField(
        required=False,
        label="As a batch job",
        help_text="Send as provider batch jobs: half the price, answers within 24 hours.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("as_batch") and cleaned.get("transport") != Transport.FILE:
            self.add_error("as_batch", "A batch job sends documents by file, not inline.")
        return cleaned


class PrettyJSONWidget(forms.Textarea):
    def format_value(self, value):
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            return value


class DepthSafeJSONField(forms.JSONField):
    """JSON nested deeper than Python's json can parse is a form error, not a 500."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise ValidationError("The JSON is nested too deeply.", code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class ExtractionProfileForm(forms.ModelForm):
    class Meta:
        model = ExtractionProfile
        fields = ["slug", *ExtractionProfile.VERSIONED_FIELDS]
        field_classes = {
            "schema": DepthSafeJSONField,
            "fallback_models": DepthSafeJSONField,
            "checks": DepthSafeJSONField,
            "segmenting": DepthSafeJSONField,
        }
        widgets = {
            "schema": PrettyJSONWidget(attrs={"rows": 20, "cols": 90}),
            "fallback_models": forms.Textarea(attrs={"rows": 2, "cols": 90}),
            "checks": forms.Textarea(attrs={"rows": 3, "cols": 90}),
            "segmenting": PrettyJSONWidget(attrs={"rows": 6, "cols": 90}),
        }
        help_texts = {
            "checks": 'A JSON list of check names, e.g. ["totals_add_up"].',
            "segmenting": (
                'Long documents, e.g. {"arrays": {"line_items": {"mode": "segmented", "pages": '
                '10, "overlap": 1}}, "other_fields": {"first_pages": 2, "last_pages": 1}} or '
                '{"map_reduce": {"pages": 50}} (README: Long documents). {} = one call.'
            ),
        }

    def clean(self):
        cleaned = super().clean()
        schema, segmenting = cleaned.get("schema"), cleaned.get("segmenting") or {}
        if isinstance(schema, dict):
            try:
                profile_segmenting_check(segmenting=segmenting, schema=schema)
            except ApplicationError as exc:
                self.add_error("segmenting", exc.detail)
        cleaned["segmenting"] = segmenting
        return cleaned

    def clean_checks(self):
        checks = self.cleaned_data.get("checks") or []
        _service_check(profile_checks_check, checks=checks)
        return checks

    def clean_schema(self):
        schema = self.cleaned_data.get("schema")
        _service_check(profile_schema_check, schema=schema)
        return schema

    def clean_default_model(self):
        model = self.cleaned_data.get("default_model")
        _service_check(model_check, model=model)
        return model

    def clean_fallback_models(self):
        models = self.cleaned_data.get("fallback_models") or []
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise forms.ValidationError('Enter a JSON list of model names, e.g. ["openai/gpt-4o"].')
        for model in models:
            _service_check(model_check, model=model)
        return models


def _service_check(check, **value) -> None:
    """The profile service's own check of a field; its refusal is the field's error."""
    try:
        check(**value)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.detail) from exc


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
        except RecursionError:
            raise forms.ValidationError("The JSON is nested too deeply.") from None
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
