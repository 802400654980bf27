"""RFC 8030 message options shared by Web Push and FCM's webpush block: urgency and topic."""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

Urgency = Literal["very-low", "low", "normal", "high"]
URGENCIES: frozenset[str] = frozenset(("very-low", "low", "normal", "high"))
# RFC 8030 §5.4: a topic is at most 32 characters of the URL-safe base64 alphabet. Apple's
# push service also decodes it as base64 and answers 400 BadWebPushTopic when it cannot (a
# length of 1 mod 4), so every topic sent is 24 digest bytes: exactly 32 characters.
_TOPIC_DIGEST_BYTES = 24


def urgency_header(urgency: str | None) -> str | None:
    """The `Urgency` value to send, or None to leave the service's default (normal)."""
    return urgency if urgency in URGENCIES else None


def topic_header(collapse_key: str | None) -> str | None:
    """The `Topic` value for a collapse key (None for none): the same key always gives the
    same 32-character base64url digest, which every push service accepts."""
    if not collapse_key:
        return None
    digest = hashlib.sha256(collapse_key.encode()).digest()[:_TOPIC_DIGEST_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")
