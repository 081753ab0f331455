"""One outbound webhook request, guarded against server-side request forgery.

The host is resolved here and every address it resolves to must be public (not private, loopback,
link-local, multicast, reserved or unspecified) unless `WEBHOOK_ALLOW_PRIVATE_TARGETS`; the request
then goes to the address that was checked, so a second resolution (DNS rebinding) cannot point it
elsewhere. TLS still verifies the certificate against the URL's host name. Redirects are never
followed (a 3xx is a failed attempt), and the whole attempt has one timeout.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

RESPONSE_BYTES_READ = 1024  # the receiver's body is not kept; reading a little lets the connection end cleanly


class RefusedTarget(ValueError):
    """The URL's host is (or resolves to) an address webhooks must not reach."""


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code, when an answer came, and what went wrong otherwise."""

    status_code: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not part of the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def check_literal_host(host: str, allow_private: bool) -> None:
    """At registration: refuse a URL whose host is a non-public IP literal or `localhost` (names are
    checked on every attempt, after resolution, where it matters)."""
    if allow_private:
        return
    if host.lower().rstrip(".") == "localhost" or host.lower().endswith(".localhost"):
        raise RefusedTarget("The URL's host must not be a loopback address")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if not is_public(host.strip("[]")):
        raise RefusedTarget("The URL's host must be a public address")


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to: the first the host resolves to, once all of them passed the guard."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedTarget(f"cannot resolve {host}: {error}") from error
    addresses = [info[4][0] for info in infos]
    if not allow_private:
        refused = sorted({address for address in addresses if not is_public(address)})
        if refused:
            raise RefusedTarget(f"{host} resolves to a non-public address ({', '.join(refused)})")
    return addresses[0]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Outcome:
    """POST `body` to `url` once: never raises, the outcome says what happened."""
    # Imported here: deliveries run in the job worker; a web process only nudges the relay.
    import urllib3
    from urllib3.exceptions import HTTPError as TransportError

    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        address = resolve(host, port, allow_private)
    except RefusedTarget as refusal:
        return Outcome(None, f"refused: {refusal}"[:500])
    default_port = port == (443 if https else 80)
    request_headers = {**headers, "Host": host if default_port else f"{host}:{port}"}
    options = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if https:
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED", **options)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, **options)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen("POST", target, body=body, headers=request_headers, redirect=False,
                                retries=False, preload_content=False, assert_same_host=False)
        try:
            response.read(RESPONSE_BYTES_READ)
        finally:
            response.release_conn()
    except TransportError as error:
        return Outcome(None, f"{type(error).__name__}: {error}"[:500])
    finally:
        pool.close()
    if 300 <= response.status < 400:
        return Outcome(response.status, f"redirect to {response.headers.get('Location', '?')} not followed"[:500])
    if not 200 <= response.status < 300:
        return Outcome(response.status, f"HTTP {response.status}")
    return Outcome(response.status)
