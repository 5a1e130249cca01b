"""The model catalog as data: one row per model we route to (the proxy's model_name too)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    GEMINI = "gemini", "Gemini"
    ANTHROPIC = "anthropic", "Anthropic"


class ModelSource(models.TextChoices):
    SEED = "seed", "Seed (migration)"
    PROXY = "proxy", "Proxy sync"
    STAFF = "staff", "Staff"


_PRICE = {"max_digits": 12, "decimal_places": 6, "null": True, "blank": True}


class LLMModel(models.Model):
    """A model: its limits, its prices (USD per 1M tokens) and its retirement.

    Written only through llm.catalog_services; read through llm.catalog (cached per process).
    """

    name = models.CharField(
        max_length=128,
        unique=True,
        help_text='"provider/model": the name requests and profiles use.',
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    direct_model = models.CharField(
        max_length=128, help_text="The provider's own model id (the direct route)."
    )
    enabled = models.BooleanField(default=True)
    max_pages = models.PositiveIntegerField()
    max_bytes = models.PositiveBigIntegerField()
    max_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    price_input = models.DecimalField(**_PRICE, help_text="USD per 1M input tokens.")
    price_output = models.DecimalField(**_PRICE, help_text="USD per 1M output tokens.")
    price_document = models.DecimalField(
        **_PRICE, help_text="USD per 1M document (PDF) tokens; empty: the input price."
    )
    batch_discount = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),  # OpenAI, Anthropic and Gemini all charge half for batches
        help_text="Fraction off the prices for batch jobs (0.5 = half price).",
    )
    retires_on = models.DateField(
        null=True, blank=True, help_text="From this day on the model is never called."
    )
    replacement = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    source = models.CharField(max_length=8, choices=ModelSource.choices, default=ModelSource.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "name"]
        verbose_name = "LLM model"
        permissions = [("sync_models", "Can sync models from the LiteLLM proxy")]

    def __str__(self):
        return self.name
