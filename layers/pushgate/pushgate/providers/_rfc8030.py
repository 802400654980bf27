"""RFC 8030 message options shared by Web Push and FCM's webpush block: urgency and topic."""

from __future__ import annotations

import re
from typing import Literal

Urgency = Literal["very-low", "low", "normal", "high"]
URGENCIES: frozenset[str] = frozenset(("very-low", "low", "normal", "high"))
# RFC 8030 §5.4: a topic is at most 32 characters of the URL-safe base64 alphabet.
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


def urgency_header(urgency: str | None) -> str | None:
    """The `Urgency` value to send, or None to leave the service's default (normal)."""
    return urgency if urgency in URGENCIES else None


def topic_header(collapse_key: str | None) -> str | None:
    """The `Topic` value for a collapse key, or None when the key cannot be a topic."""
    if collapse_key is not None and _TOPIC.fullmatch(collapse_key):
        return collapse_key
    return None
