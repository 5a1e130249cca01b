"""Admin for the model catalog: limits, prices, retirement, last 30 days; edits via the service."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from llm import catalog
from llm.catalog_services import (
    EDITABLE,
    InvalidModelChange,
    llm_model_create,
    llm_model_update,
    llm_model_validate,
)
from llm.errors import LLMError
from llm.model_users import retirement_flags, usage_since
from llm.models import LLMModel

USAGE_DAYS = 30


class LLMModelForm(forms.ModelForm):
    class Meta:
        model = LLMModel
        fields = ["name", *EDITABLE]

    def clean(self):
        data = super().clean()
        name = data.get("name") or (self.instance.name if self.instance.pk else "")
        values = {f: data[f] for f in EDITABLE if f in data}
        try:
            llm_model_validate(name=name, values=values, instance=self.instance)
        except InvalidModelChange as exc:
            for field, message in exc.errors.items():
                self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(LLMModel)
class LLMModelAdmin(admin.ModelAdmin):
    form = LLMModelForm
    list_display = [
        "name",
        "provider",
        "enabled",
        "retirement",
        "replacement",
        "max_pages",
        "max_bytes",
        "price_input",
        "price_output",
        "runs_30d",
        "cost_30d",
        "source",
        "updated_at",
    ]
    list_filter = ["provider", "enabled", "source"]
    search_fields = ["name", "direct_model"]
    list_select_related = ["replacement"]
    readonly_fields = ["provider", "source", "created_at", "updated_at", "overridden_by_settings"]
    actions = ["sync_from_proxy"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "name"] if obj else self.readonly_fields

    # --- the list ----------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        self._usage = usage_since(timezone.now() - timedelta(days=USAGE_DAYS))
        flags = retirement_flags()
        if flags:
            items = format_html_join("", "<li>{}</li>", ((_flag_html(flag),) for flag in flags))
            self.message_user(
                request,
                format_html("Profiles on retired or retiring models:<ul>{}</ul>", items),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="retirement", ordering="retires_on")
    def retirement(self, obj):
        if obj.retires_on is None:
            return "-"
        today = catalog.today()
        if obj.retires_on <= today:
            return format_html('<strong style="color:#ba2121">retired {}</strong>', obj.retires_on)
        days = (obj.retires_on - today).days
        if days <= catalog.RETIRING_SOON_DAYS:
            return format_html('<span style="color:#b85c00">in {} days</span>', days)
        return str(obj.retires_on)

    @admin.display(description=f"runs ({USAGE_DAYS} d)")
    def runs_30d(self, obj):
        return getattr(self, "_usage", {}).get(obj.name, (0, None))[0]

    @admin.display(description=f"cost ({USAGE_DAYS} d, USD)")
    def cost_30d(self, obj):
        cost = getattr(self, "_usage", {}).get(obj.name, (0, None))[1]
        return "-" if not cost else f"{cost:.2f}"

    @admin.display(description="overridden by LLM_MODELS_JSON")
    def overridden_by_settings(self, obj):
        try:
            spec = catalog.get_model(obj.name)
        except LLMError:
            return "removed or disabled"
        return ", ".join(spec.overridden) or "-"

    # --- writes go through the service -------------------------------------------------------

    def save_form(self, request, form, change):
        return form.instance  # saved by the service in save_model

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in EDITABLE if f in form.cleaned_data}
        if change:
            llm_model_update(model=LLMModel.objects.get(pk=obj.pk), **values)
        else:
            saved = llm_model_create(name=form.cleaned_data["name"], **values)
            obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines; the service saved everything

    def has_delete_permission(self, request, obj=None):
        return False  # runs and profiles keep naming models: disable or retire instead

    @admin.action(description="Sync models from the LiteLLM proxy", permissions=["sync"])
    def sync_from_proxy(self, request, queryset):
        from llm.conf import conf
        from llm.sync import sync_models

        if not conf.LITELLM_BASE_URL:
            self.message_user(request, "LITELLM_BASE_URL is not set.", messages.ERROR)
            return
        try:
            changes = sync_models()
        except LLMError as exc:
            self.message_user(request, f"The proxy did not answer: {exc.detail}", messages.ERROR)
            return
        changed = [str(c) for c in changes if c.action in ("create", "update")]
        items = format_html_join("", "<li>{}</li>", ((c,) for c in changed))
        self.message_user(
            request,
            format_html(
                "Synced {} models, {} changed.<ul>{}</ul>", len(changes), len(changed), items
            ),
            messages.SUCCESS,
        )

    def has_sync_permission(self, request):
        return request.user.has_perm("llm.sync_models")


def _flag_html(flag):
    text = str(flag)
    return format_html('<a href="{}">{}</a>', flag.url, text) if flag.url else text
