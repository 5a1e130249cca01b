#!/usr/bin/env python3
"""The CDK app. `cdk synth`/`cdk deploy` run it (cdk.json), and so can plain Python, offline:

    python app.py                                 # writes cdk.out/Remorai.template.json
    python app.py -c litellm_enabled=false        # context values as with the CLI

Run directly, it reads cdk.json's "context" too (as the CLI does), with -c values winning.

aws-cdk-lib runs on the machine's Node.js through jsii; no AWS account is needed to synthesize.
"""

import json
import os
import sys
from pathlib import Path

# The machine's Node.js is 20, past its end of life for jsii (it still works); said once, in
# docs/deploy.md, instead of in every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from remorai_deploy.config import DeployConfig  # noqa: E402
from remorai_deploy.stack import RemoraiStack  # noqa: E402


def parse_context(argv: list[str]) -> dict[str, str]:
    """`-c key=value` / `--context key=value` pairs, as the cdk CLI takes them."""
    context: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        if arg in ("-c", "--context"):
            pair = next(args, "")
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise SystemExit(f"expected -c key=value, got {pair!r}")
            context[key] = value
        else:
            raise SystemExit(f"unknown argument {arg!r} (use -c key=value)")
    return context


def build_app(context: dict | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context or None, outdir=outdir)
    config = DeployConfig.from_context(app.node.try_get_context)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    RemoraiStack(
        app,
        app.node.try_get_context("stack_name") or "Remorai",
        config=config,
        env=cdk.Environment(account=account, region=region) if account and region else None,
        description="Remorai: Django web + django-q2 worker + LiteLLM proxy on ECS Fargate",
    )
    return app


def run_by_cdk_cli() -> bool:
    """The CLI hands over cdk.json's context (and its -c values) itself, in one of these."""
    return "CDK_CONTEXT_JSON" in os.environ or "CONTEXT_OVERFLOW_LOCATION" in os.environ


def cdk_json_context(path: Path) -> dict:
    """The "context" of cdk.json, so `python app.py` sees what `cdk deploy` would."""
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    context = {} if run_by_cdk_cli() else cdk_json_context(here / "cdk.json")
    context.update(parse_context(sys.argv[1:]))
    outdir = None if os.environ.get("CDK_OUTDIR") else str(here / "cdk.out")
    build_app(context, outdir=outdir).synth()
