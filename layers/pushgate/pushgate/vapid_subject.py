"""The VAPID subject (RFC 8292 `sub`) that Web Push requests are signed with: a real contact.

RFC 8292 asks for a `mailto:` or `https:` URI. Apple's push service (web.push.apple.com) goes
further and answers `403 {"reason": "BadJwtToken"}` when the contact is a placeholder such as
`mailto:x@localhost` (web-push-libs/web-push issue 947), while other services accept it: a
placeholder fails for Safari users only, silently. The deployment's default subject and every
app's `vapid_subject` pass this one check.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_SUBJECT_LENGTH = 256
# A DNS name of at least two labels whose last one is letters (no IP literals, no bare hosts).
_DOMAIN = re.compile(
    r"(?i)^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_MAILBOX = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=^_`{|}~-]{1,64}$")
# Reserved for documentation, testing and local networks (RFC 2606, RFC 6761, RFC 6762).
_PLACEHOLDER_TLDS = frozenset({"localhost", "invalid", "local", "test", "example"})
_REQUIREMENT = (
    "must be a mailto: address or an https: URL on a real domain (not localhost, .invalid, "
    ".local, .test or example.*): Apple's push service refuses placeholders"
)


def check_vapid_subject(value: str) -> str:
    """`value` when it is a usable VAPID subject; raises ValueError (pydantic's validator
    protocol) saying what is expected otherwise. The value itself is never echoed."""
    if len(value) > MAX_SUBJECT_LENGTH or any(c.isspace() or ord(c) < 0x20 for c in value):
        raise ValueError(_REQUIREMENT)
    if value[:7].lower() == "mailto:":
        mailbox, at, domain = value[7:].rpartition("@")
        if not at or not _MAILBOX.match(mailbox) or not _real_domain(domain):
            raise ValueError(_REQUIREMENT)
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(_REQUIREMENT) from None
    if parts.scheme != "https" or "@" in parts.netloc or not _real_domain(parts.hostname or ""):
        raise ValueError(_REQUIREMENT)
    return value


def _real_domain(domain: str) -> bool:
    if not _DOMAIN.match(domain):
        return False
    labels = domain.lower().split(".")
    return labels[-1] not in _PLACEHOLDER_TLDS and labels[-2] != "example"
