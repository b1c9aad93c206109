"""Outbound safety for webhooks: which URLs may be called, and calling them without surprises.

A URL must be http(s), its host must be listed in ``WEBHOOK_ALLOWED_HOSTS`` (exact names, or
``*.example.com`` for subdomains; empty means no webhook can be sent), and every address the
host resolves to must be public unless it falls in ``WEBHOOK_ALLOWED_NETWORKS``. The request
then goes to the address that was checked (the connection is pinned to it, with TLS still
verified against the host name), so a DNS answer that changes between the check and the
connect (rebinding) cannot reach an internal service. Redirects are never followed.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from webapp.exceptions import InvalidInput

BODY_KEPT_BYTES = 2048


class Refused(InvalidInput):
    """The URL may not be called; raised before any connection is made."""

    code = "webhook_url_refused"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    duration_ms: float


def host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    for entry in allowed_hosts:
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if host == entry:
            return True
    return False


def check_url(url: str, allowed_hosts: tuple[str, ...]) -> tuple[str, str, int, str]:
    """The static part of the check (no DNS): scheme, credentials, host allow-list."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("A webhook URL must start with http:// or https:// and name a host.")
    if parts.username or parts.password:
        raise Refused("A webhook URL must not carry credentials; use the signature to authenticate.")
    host = parts.hostname.lower()
    if not host_allowed(host, allowed_hosts):
        raise Refused(f"The host {host!r} is not in WEBHOOK_ALLOWED_HOSTS.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("The webhook URL has an invalid port.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def resolve(url: str, allowed_hosts: tuple[str, ...], allowed_networks: tuple) -> Target:
    scheme, host, port, path = check_url(url, allowed_hosts)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Refused(f"The host {host!r} does not resolve: {error}.") from None
    try:  # a scoped IPv6 answer ("fe80::1%eth0") is no address we would call
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    except ValueError:
        raise Refused(f"The host {host!r} resolves to an address that cannot be checked.") from None
    for address in addresses:
        if not address.is_global and not any(address in network for network in allowed_networks):
            raise Refused(f"The host {host!r} resolves to {address}, a private or reserved address "
                          "not in WEBHOOK_ALLOWED_NETWORKS.")
    return Target(scheme, host, port, path, str(addresses[0]))


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address but verifies the certificate for the host name."""

    def __init__(self, address: str, port: int, server_hostname: str, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self.server_hostname = server_hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.server_hostname)


def post(target: Target, headers: dict[str, str], body: bytes, timeout: float) -> Response:
    """POST once; any status is an answer (3xx included: never followed). Raises OSError and
    http.client errors for transport failures."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = PinnedHTTPSConnection(target.address, target.port, target.host, timeout)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    started = time.perf_counter()
    try:
        connection.request("POST", target.path, body=body, headers={**headers, "Host": host_header})
        response = connection.getresponse()
        kept = response.read(BODY_KEPT_BYTES)
        return Response(response.status, kept.decode("utf-8", "replace"), (time.perf_counter() - started) * 1000)
    finally:
        connection.close()
