"""Print this ECS task's private IPv4 addresses, comma-separated (empty when unknown).

Read from the task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4, set by ECS in every
container). The entrypoint adds them to DJANGO_ALLOWED_HOSTS so the load balancer's health check,
which sends the target's IP as Host, is not refused. Standard library only; never fails the start.
"""

import json
import os
import sys
import urllib.request


def task_ips(metadata_uri: str, timeout: float = 2.0) -> list[str]:
    with urllib.request.urlopen(metadata_uri, timeout=timeout) as response:  # noqa: S310
        container = json.load(response)
    ips: list[str] = []
    for network in container.get("Networks") or []:
        for ip in network.get("IPv4Addresses") or []:
            if ip not in ips:
                ips.append(ip)
    return ips


def main() -> int:
    uri = os.environ.get("ECS_CONTAINER_METADATA_URI_V4", "")
    if not uri.startswith(("http://", "https://")):
        return 0
    try:
        print(",".join(task_ips(uri)))
    except (OSError, ValueError) as exc:
        print(f"ecs_task_ips: metadata unavailable ({type(exc).__name__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
