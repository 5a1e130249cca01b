"""Where a webhook may go, and a connection pinned to the address that was checked.

The destination host is resolved at registration and again at every delivery; any address that
is not plainly public (loopback, private, link-local such as the cloud metadata 169.254.169.254,
unique local, multicast, reserved, unspecified, or one of those wrapped in an IPv6 transition
prefix) refuses the URL unless WEBHOOK_ALLOWED_HOSTS names the host. The delivery then connects
to that checked address itself, so a DNS answer that changes between the check and the connect
(DNS rebinding) cannot redirect it; the Host header, TLS SNI and certificate check still use the
URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

from extraction.webhooks import conf
from extraction.webhooks.errors import WebhookUrlRefused

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Destination:
    url: str
    host: str
    port: int
    address: str  # the checked IP address the connection goes to


def _getaddrinfo(host: str, port: int):
    # One seam for tests (a name resolving to 127.0.0.1 without touching DNS).
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and address_is_forbidden(str(inner)):
            return True
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = _getaddrinfo(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlRefused(
            f"The host {host!r} could not be resolved ({exc}).", reason="unresolvable"
        ) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise WebhookUrlRefused(f"The host {host!r} has no address.", reason="unresolvable")
    return addresses


def check_url(url: str) -> Destination:
    """The URL's checked destination; raises WebhookUrlRefused (422) with a `reason`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or (scheme == "http" and not conf.allow_http()):
        raise WebhookUrlRefused(
            "Webhook URLs must use https (http is accepted only in debug or with "
            "WEBHOOK_ALLOW_HTTP).",
            reason="insecure_scheme",
        )
    if parts.username or parts.password:
        raise WebhookUrlRefused("Webhook URLs may not carry credentials.", reason="credentials")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise WebhookUrlRefused("The URL has no host.", reason="unresolvable")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("The URL's port is invalid.", reason="unresolvable") from None
    addresses = resolve(host, port)
    if host not in conf.allowed_hosts():
        for address in addresses:
            if address_is_forbidden(address):
                raise WebhookUrlRefused(
                    f"{host} resolves to {address}, a loopback, private, link-local, "
                    "multicast or reserved address. To allow it (e.g. a receiver on this "
                    f"machine), list {host!r} in the WEBHOOK_ALLOWED_HOSTS setting.",
                    reason="forbidden_address",
                    address=address,
                )
    return Destination(url=url, host=host, port=port, address=addresses[0])


class _PinnedBackend(httpcore.SyncBackend):
    """Opens every TCP connection to the checked address, whatever host the URL names."""

    def __init__(self, address: str):
        self.address = address

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return super().connect_tcp(self.address, port, timeout, local_address, socket_options)


def pinned_client(destination: Destination) -> httpx.Client:
    """An httpx client that reaches only `destination.address`: no proxy from the environment,
    no redirects followed, connect timeout 5 s, each read/write within the 15 s total."""
    transport = httpx.HTTPTransport(trust_env=False, retries=0)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=1,
        network_backend=_PinnedBackend(destination.address),
    )
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(conf.TOTAL_TIMEOUT_SECONDS, connect=conf.CONNECT_TIMEOUT_SECONDS),
    )
