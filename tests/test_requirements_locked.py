"""Supply chain: every requirements file is pinned with hashes, and everything installs with
--require-hashes (issue: LiteLLM 1.82.7/1.82.8 on PyPI carried a credential stealer)."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCKS = {
    "requirements.in": "requirements.txt",
    "requirements-dev.in": "requirements-dev.txt",
    "requirements-litellm.in": "requirements-litellm.txt",
    "deploy/requirements.in": "deploy/requirements.txt",
}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)


def _pins(text: str) -> dict[str, str]:
    return {m[0].lower().replace("_", "-"): m[2] for m in PIN.findall(text)}


@pytest.mark.parametrize(("source", "lock"), LOCKS.items())
def test_every_locked_requirement_has_a_hash(source, lock):
    text = (REPO / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(entries) > 3
    for entry in entries:
        assert "--hash=sha256:" in entry, f"{lock}: no hash for {entry.splitlines()[0]}"


@pytest.mark.parametrize(("source", "lock"), LOCKS.items())
def test_the_lock_holds_every_top_level_pin_of_its_source(source, lock):
    wanted = _pins((REPO / source).read_text())
    locked = _pins((REPO / lock).read_text())
    assert wanted
    for name, version in wanted.items():
        assert locked.get(name) == version, f"{lock}: {name} is {locked.get(name)}, not {version}"


def test_every_install_requires_hashes():
    makefile = (REPO / "Makefile").read_text()
    assert "install -q --require-hashes -r requirements-dev.txt" in makefile
    assert "install -q --require-hashes -r deploy/requirements.txt" in makefile
    assert "--require-hashes" in (REPO / "scripts/setup-litellm-venv").read_text()
    assert (
        "pip install --require-hashes -r /tmp/requirements.txt" in (REPO / "Dockerfile").read_text()
    )
    # No unpinned install anywhere (e.g. `pip install --upgrade pip`).
    for path in ("Makefile", "Dockerfile", "scripts/setup-litellm-venv", ".ci/run"):
        for line in (REPO / path).read_text().splitlines():
            if "pip install" in line:
                assert "--require-hashes" in line, f"{path}: {line.strip()}"
