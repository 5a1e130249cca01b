import os

import pytest

# The machine's Node.js is 20, past its end of life for jsii (it still works); say so once, in
# docs/deploy.md, instead of in every run.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def synth(context: dict | None = None):
    from app import build_app
    from aws_cdk.assertions import Template

    app = build_app(context)
    stack = app.node.find_child("Remorai")
    return stack, Template.from_stack(stack)


@pytest.fixture(scope="session")
def synthesized():
    return synth()


@pytest.fixture(scope="session")
def stack(synthesized):
    return synthesized[0]


@pytest.fixture(scope="session")
def template(synthesized):
    return synthesized[1]


@pytest.fixture(scope="session")
def resources(template):
    return template.to_json()["Resources"]
