"""Outbound URL safety (SSRF): every URL pushgate will call on a tenant's behalf passes here.

A URL is refused when it carries credentials, uses a scheme other than https (http too when
private URLs are allowed, as in the local stack), names its host in a non-canonical numeric
form (`0x7f000001`, `2130706433`, `0177.1`), or resolves to any address that is not public:
private, loopback, link-local, CGNAT, multicast, reserved, unspecified, unique-local IPv6, and
IPv6 forms that embed such an IPv4 address (mapped, 6to4, NAT64, Teredo). This check answers
a tenant early (400 when a URL is configured); the connection itself is checked again when it
is made, by `pushgate.outbound`, and made to the address that was checked, so a DNS answer
that changes after this check (rebinding) cannot redirect the request.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pushgate.errors import BadRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_HOST_CHARS = re.compile(r"^[a-z0-9.-]+$")


class UnsafeUrlError(BadRequestError):
    default_code = "unsafe_url"


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL that passed the checks, with the addresses its host resolved to then."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def origin(self) -> str:
        default = {"https": 443, "http": 80}[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses. In the local stack only, a JSON hosts file
    (`PUSHGATE_HOSTS_FILE`, `{"name": ["address", ...]}`, re-read on every call) answers
    first, so tests can make a name resolve to a public address and later to a private one."""
    hosts_file = os.environ.get("PUSHGATE_HOSTS_FILE")
    if hosts_file and os.environ.get("PUSHGATE_LOCAL") == "1":
        try:
            overrides = json.loads(Path(hosts_file).read_text())
        except (OSError, ValueError):
            overrides = {}
        if host in overrides:
            return list(overrides[host])
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public_address(embedded)
        if address.teredo is not None:
            return False
        if address in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


def check_outbound_url(
    url: str,
    *,
    allow_private: bool,
    field: str = "url",
    resolver: Resolver = system_resolver,
    resolve: bool = True,
) -> CheckedUrl:
    """Validate `url` for an outbound request; raises `UnsafeUrlError` (400) with a reason.
    Messages name the field, never the URL (it may carry a token).

    `resolve=False` checks the form and any IP literal but leaves names unresolved, for hosts
    already vetted by an allow-list; the connection resolves and checks when it is made."""
    scheme, host, port = _parse(url, allow_private=allow_private, field=field)
    literal = _ip_literal(host)
    if allow_private or (literal is None and not resolve):
        return CheckedUrl(url, scheme, host, port, (str(literal),) if literal else ())
    addresses = [literal] if literal is not None else _resolve(host, port, resolver, field)
    if not all(is_public_address(a) for a in addresses):
        raise UnsafeUrlError(f"{field} must not point to a private or reserved address")
    return CheckedUrl(url, scheme, host, port, tuple(str(a) for a in addresses))


def _parse(url: str, *, allow_private: bool, field: str) -> tuple[str, str, int]:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrlError(f"{field} must be a URL of at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UnsafeUrlError(f"{field} must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"{field} is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in (("https", "http") if allow_private else ("https",)):
        raise UnsafeUrlError(f"{field} must use https")
    if "@" in parts.netloc:
        raise UnsafeUrlError(f"{field} must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrlError(f"{field} has no host")
    if _ip_literal(host) is None:
        if not _HOST_CHARS.match(host) or ".." in host:
            raise UnsafeUrlError(f"{field} has an invalid host name")
        if all(_NUMERIC_LABEL.match(label) for label in host.split(".")):
            raise UnsafeUrlError(f"{field} uses a non-canonical numeric address")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _resolve(host: str, port: int, resolver: Resolver, field: str) -> list[IPAddress]:
    try:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeUrlError(f"{field} host does not resolve") from exc
    if not addresses:
        raise UnsafeUrlError(f"{field} host does not resolve")
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
