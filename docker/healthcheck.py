"""The image's HEALTHCHECK, by the role PID 1 plays (docker/entrypoint.sh execs it):

- web (gunicorn): GET /healthz on $PORT answers 200 (Host: the first allowed host);
- worker (qcluster): the cluster is up and still has its worker processes;
- anything else (migrate, manage …: one-off commands): healthy while it runs.
Exit 0 healthy, 1 unhealthy. HEALTHCHECK_PID overrides PID 1 (tests).
"""

import os
import sys
import urllib.request
from pathlib import Path


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":  # ppid; a zombie is gone
            found.append(int(stat.parent.name))
    return found


def web_ok() -> bool:
    host = (os.environ.get("DJANGO_ALLOWED_HOSTS") or "localhost").split(",")[0].strip()
    host = host.lstrip(".")
    host = "localhost" if host in ("", "*") else host
    url = f"http://127.0.0.1:{int(os.environ.get('PORT', '8000'))}/healthz"
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 - http, local
    try:
        with urllib.request.urlopen(request, timeout=4):  # noqa: S310
            return True
    except Exception:  # noqa: BLE001 - any failure is unhealthy
        return False


def main() -> int:
    pid = int(os.environ.get("HEALTHCHECK_PID", "1"))
    argv = cmdline(pid)
    if not argv:
        return 1
    words = " ".join(Path(a).name for a in argv)
    if "gunicorn" in words:
        return 0 if web_ok() else 1
    if "qcluster" in words:
        return 0 if children(pid) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
