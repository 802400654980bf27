"""The headers every console response carries: a strict Content-Security-Policy (this origin's
files only, no inline script or style, never framed; the sign-in issuer the one other origin
the console may connect to) and the usual hardening."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pushgate.observability import logger

# scheme://host[:port] and nothing a policy could be extended with (spaces, quotes, `;`, `,`).
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# Everything from this origin only; what is not named falls back to default-src.
_DIRECTIVES_AFTER_CONNECT = (
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def issuer_origin(issuer: str) -> str | None:
    """The origin of the console's issuer URL, or None when it is empty or not an http(s) URL."""
    if not issuer:
        return None
    parts = urlsplit(issuer)
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    if not _ORIGIN.match(origin) or "@" in parts.netloc:
        logger.warning("PUSHGATE_CONSOLE_ISSUER is not an http(s) URL; the console cannot sign in")
        return None
    return origin


def content_security_policy(issuer: str) -> str:
    """No inline script or style, nothing from elsewhere, never framed; the one other origin
    the console may connect to is its sign-in issuer's (discovery and the token endpoint)."""
    connect = " ".join(filter(None, ("connect-src 'self'", issuer_origin(issuer))))
    return "; ".join(("default-src 'self'", connect, *_DIRECTIVES_AFTER_CONNECT))


def security_headers(issuer: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(issuer),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # The console's URLs carry nothing secret, but a sign-in's ?code= is there for an
        # instant: no other site learns it from a Referer.
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
