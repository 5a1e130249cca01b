import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_llm_models_json_is_read_from_the_environment_at_start():
    overrides = {"openai/gpt-9": {"direct_model": "gpt-9", "max_pages": 100}, "openai/gpt-4o": None}
    code = (
        "import django, json; django.setup(); from llm.conf import conf; "
        "print(json.dumps(conf.LLM_MODELS_JSON))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "remorai.settings",
        "LLM_MODELS_JSON": json.dumps(overrides),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == overrides
