"""What `make run` (manage.py devserver) leaves for commands started beside it, in another
terminal: which providers it pointed at its simulator, and where that simulator listens.

devserver writes `VAR_DIR/devserver.json` once the simulator answers and removes it when it
stops. `manage.py` reads it before Django starts (DEBUG installs only) and gives each provider
without a key of its own in this shell the same simulated key and base URL, so `llm_check`,
`reextract` or `shell` see the providers the running service sees. A file left by a devserver
that is gone (killed) is ignored; `describe()` says which of these happened.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_FILE = "devserver.json"
# manage.py commands that must not take another devserver's simulator for their own.
NOT_ADOPTING = frozenset({"devserver", "runsimulator"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})


def var_dir(environ=os.environ) -> Path:
    base = Path(__file__).resolve().parent.parent
    return Path(environ.get("VAR_DIR") or base / "var")


def state_path(environ=os.environ) -> Path:
    return var_dir(environ) / STATE_FILE


def write_state(*, simulator_url: str, environment: dict[str, str], environ=os.environ) -> Path:
    """Record the running devserver (this process) and the variables it gave its children."""
    path = state_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(
            {"pid": os.getpid(), "simulator_url": simulator_url, "environment": environment},
            fh,
            indent=2,
        )
    os.replace(tmp, path)
    return path


def remove_state(environ=os.environ) -> None:
    path = state_path(environ)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if state.get("pid") == os.getpid():  # never another devserver's
        path.unlink(missing_ok=True)


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(environ=os.environ) -> tuple[str, dict]:
    """("absent" | "stale" | "running", state)."""
    try:
        state = json.loads(state_path(environ).read_text())
    except FileNotFoundError:
        return "absent", {}
    except (OSError, ValueError):
        return "stale", {}
    if not isinstance(state, dict) or not _alive(state.get("pid")):
        return "stale", state if isinstance(state, dict) else {}
    return "running", state


def adopt_devserver_environment(argv: list[str], environ=os.environ) -> list[str]:
    """Give this process the simulator settings of a running devserver; the variables set."""
    command = argv[1] if len(argv) > 1 else ""
    dotenv = var_dir(environ).parent / ".env"
    if environ is os.environ and dotenv.is_file():  # what the settings will read anyway
        import environ as django_environ

        django_environ.Env.read_env(dotenv)
    if command in NOT_ADOPTING or environ.get("DJANGO_DEBUG", "true").lower() in _FALSE:
        return []
    status, state = read_state(environ)
    if status != "running" or environ.get("LLM_SECRETS_ID"):
        return []
    given = state.get("environment") or {}
    adopted = []
    # Per provider: its key and base URL go together, and only where this shell set neither.
    for key_var in [name for name in given if name.endswith("_API_KEY")]:
        url_var = key_var.replace("_API_KEY", "_BASE_URL")
        if environ.get(key_var) or environ.get(url_var):
            continue
        for name in (key_var, url_var):
            if isinstance(given.get(name), str):
                environ[name] = given[name]
                adopted.append(name)
    return adopted


def describe(environ=os.environ) -> str:
    """One sentence on whether this process uses a running `make run`'s simulator, and why not."""
    status, state = read_state(environ)
    path = state_path(environ)
    if status == "absent":
        return (
            f"No `make run` (manage.py devserver) is running from this folder ({path} absent): "
            "its simulated providers are not available here."
        )
    if status == "stale":
        return (
            f"{path} was left by a devserver that is gone (pid {state.get('pid')}): ignored. "
            "Start `make run` again."
        )
    if environ.get("DJANGO_DEBUG", "true").lower() in _FALSE:
        return "DJANGO_DEBUG is off: the running devserver's simulator is not used."
    return f"Using the simulator of the running `make run` (pid {state['pid']}) at " + str(
        state.get("simulator_url")
    )
