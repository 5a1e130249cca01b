"""The documentation contract: every setting's variable and every dependency is explained."""

import re
from pathlib import Path

from remorai import dbconfig

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_READ = re.compile(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"')
EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
README_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \|", re.MULTILINE)


def settings_variables() -> set[str]:
    """What settings.py reads itself, and every tunable of the apps' settings readers (settings.py
    passes each through from the environment)."""
    from extraction import conf as extraction_conf
    from extraction.webhooks import conf as webhook_conf
    from llm import conf as llm_conf

    source = (REPO_ROOT / "remorai" / "settings.py").read_text()
    tunables = {*extraction_conf.DEFAULTS, *webhook_conf.DEFAULTS, *llm_conf.DEFAULTS}
    return set(ENV_READ.findall(source)) | set(dbconfig.FIELDS) | tunables


def test_every_settings_variable_is_in_env_example_and_readme():
    variables = settings_variables()
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "MAX_UPLOAD_BYTES"} <= variables
    example = set(EXAMPLE_LINE.findall((REPO_ROOT / ".env.example").read_text()))
    readme = set(README_ROW.findall((REPO_ROOT / "README.md").read_text()))
    assert variables - example == set(), "add them to .env.example"
    assert variables - readme == set(), "add them to README.md#configuration"
    assert example == readme, "README's configuration table and .env.example differ"


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>~ ]", line, maxsplit=1)[0].lower())
    return names


def test_every_dependency_is_explained_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    explained = readme[readme.index("## Dependencies") :].lower()
    # The top-level pins (the .txt files are their hash-locked closure, made by `make lock`).
    for requirements in REPO_ROOT.glob("requirements*.in"):
        for name in requirement_names(requirements):
            assert name in explained, f"{requirements.name}: say why {name} is needed"


def test_the_docs_send_no_reader_to_a_folder_their_clone_does_not_have():
    # The team's ../shared notes are not part of the repository: a user's clone has no ../shared.
    docs = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
    named = [doc.name for doc in docs if "../shared" in doc.read_text()]
    assert named == []
