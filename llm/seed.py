"""The model catalog's seed: the models current on 2026-11-30 (migration llm.0002 writes them).

Sources, read in the installed SDKs: the openai SDK's `ChatModel` and its "Deprecated values"
(announced shutdown dates), the anthropic SDK's `Model` and `anthropic/_data/deprecated_models.py`,
the google-genai SDK's model list (`_gaos/types/interactions/model.py`; it carries no dates).
Prices (USD per 1M tokens) and output limits: LiteLLM's bundled cost map (requirements-litellm.txt);
batch jobs are half price at all three providers. A flagship and a cheap model per provider, plus
every model the settings table had that is still served. A row an operator already has is kept.
"""

from datetime import date

MB = 1024 * 1024
LIMITS = {
    "openai": {"max_pages": 100, "max_bytes": 32 * MB},
    "anthropic": {"max_pages": 100, "max_bytes": 32 * MB},
    "gemini": {"max_pages": 1000, "max_bytes": 50 * MB},
}

# name, direct id, input, output, max output tokens, retires on, replacement
MODELS = [
    # OpenAI: gpt-6-sol flagship, gpt-6-luna cheap; gpt-5.4 (+ mini) current.
    ("openai/gpt-6-sol", "gpt-6-sol", "2.00", "10.00", 128000, None, None),
    ("openai/gpt-6-luna", "gpt-6-luna", "0.10", "0.50", 128000, None, None),
    ("openai/gpt-5.4", "gpt-5.4", "2.50", "15.00", 128000, None, None),
    ("openai/gpt-5.4-mini", "gpt-5.4-mini", "0.75", "4.50", 128000, None, None),
    ("openai/gpt-5", "gpt-5", "1.25", "10.00", 128000, date(2026, 12, 11), "openai/gpt-6-sol"),
    ("openai/gpt-4.1", "gpt-4.1", "2.00", "8.00", 32768, date(2027, 1, 14), "openai/gpt-6-sol"),
    ("openai/gpt-4o", "gpt-4o", "2.50", "10.00", 16384, date(2027, 1, 14), "openai/gpt-6-sol"),
    (
        "openai/gpt-4o-mini",
        "gpt-4o-mini",
        "0.15",
        "0.60",
        16384,
        date(2027, 1, 14),
        "openai/gpt-6-luna",
    ),
    # Anthropic: claude-opus-5 flagship, claude-haiku-5-5 cheap.
    ("anthropic/claude-opus-5", "claude-opus-5", "5.00", "25.00", 128000, None, None),
    ("anthropic/claude-sonnet-5", "claude-sonnet-5", "2.00", "10.00", 128000, None, None),
    ("anthropic/claude-haiku-5-5", "claude-haiku-5-5", "0.10", "0.50", 128000, None, None),
    ("anthropic/claude-sonnet-4-6", "claude-sonnet-4-6", "3.00", "15.00", 64000, None, None),
    ("anthropic/claude-haiku-4-5", "claude-haiku-4-5", "1.00", "5.00", 64000, None, None),
    (
        "anthropic/claude-sonnet-4-5",
        "claude-sonnet-4-5",
        "3.00",
        "15.00",
        64000,
        date(2026, 11, 30),
        "anthropic/claude-sonnet-4-6",
    ),
    # Gemini: gemini-3.1-pro-preview flagship, gemini-3.1-flash-lite cheap, gemini-3.8-flash.
    ("gemini/gemini-3.1-pro", "gemini-3.1-pro-preview", "2.00", "12.00", 65536, None, None),
    ("gemini/gemini-3.8-flash", "gemini-3.8-flash", "0.75", "3.75", 65536, None, None),
    ("gemini/gemini-3.1-flash-lite", "gemini-3.1-flash-lite", "0.25", "1.50", 65536, None, None),
    ("gemini/gemini-2.5-flash", "gemini-2.5-flash", "0.30", "2.50", 65535, None, None),
    ("gemini/gemini-2.5-pro", "gemini-2.5-pro", "1.25", "10.00", 65535, None, None),
    ("gemini/gemini-3-pro", "gemini-3-pro-preview", "2.00", "12.00", 65536, None, None),
]


def seed_models(LLMModel) -> None:
    """Create the seed rows that are missing (a row an operator already has is kept)."""
    rows = {}
    for name, direct, price_in, price_out, max_out, retires_on, _ in MODELS:
        provider = name.partition("/")[0]
        rows[name], _created = LLMModel.objects.get_or_create(
            name=name,
            defaults={
                "provider": provider,
                "direct_model": direct,
                **LIMITS[provider],
                "max_output_tokens": max_out,
                "price_input": price_in,
                "price_output": price_out,
                "price_document": price_in,
                "batch_discount": "0.5",
                "retires_on": retires_on,
                "source": "seed",
            },
        )
    for name, *_, replacement in MODELS:
        if replacement and rows[name].replacement_id is None:
            rows[name].replacement = rows[replacement]
            rows[name].save(update_fields=["replacement"])
