import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_llm_models_json_merges_over_the_defaults_at_start():
    overrides = {
        "openai/gpt-5.4": {"direct_model": "gpt-5.4", "max_pages": 100, "max_bytes": 1000},
        "openai/gpt-4o": {"price_input": "9.99"},
        "openai/gpt-4o-mini": None,
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: s.LLM_MODELS.get(k) for k in "
        "['openai/gpt-5.4', 'openai/gpt-4o', 'openai/gpt-4o-mini']}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "remorai.settings",
        "LLM_MODELS_JSON": json.dumps(overrides),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    models = json.loads(out.stdout.strip().splitlines()[-1])
    assert models["openai/gpt-5.4"]["direct_model"] == "gpt-5.4"
    assert models["openai/gpt-4o"]["price_input"] == "9.99"
    assert models["openai/gpt-4o"]["direct_model"] == "gpt-4o"  # the rest of the default kept
    assert models["openai/gpt-4o-mini"] is None
