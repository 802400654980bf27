"""Interaction tokens: the capability in an interactions URL, bound to one notification and
one device, so whoever holds the URL can report that device's display and click of that
notification and nothing else.

A token is `<device id without dev_><MAC>` (75 characters). The MAC key is the
notification's own, computed here from a key derived once per container inside KMS
(`pushgate.capabilities`): every delivered notification carries a token, and every report
checks one, so a KMS call each (an approval's tokens take one) would cost more than the rest
of the delivery and add a round trip to every job. A token of one notification is still
worthless for another, and none is ever stored.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from pushgate import capabilities
from pushgate.settings import get_settings

_PURPOSE = "pushgate-notification-interactions-v1"
_TOKEN = re.compile(rf"^({capabilities.DEVICE_PATTERN})({capabilities.MAC_PATTERN})$")
TOKEN_LENGTH = 32 + 43
_ROOT = "notifications"
# KMS key id -> the key every notification's key comes from: one KMS call per container.
_roots: dict[str, bytes] = {}
# One derivation at a time: every device of a cold container's first batch asks at once (on
# the deliver function's threads), and each would otherwise make the KMS call.
_deriving = threading.Lock()


@dataclass(frozen=True, slots=True)
class Claim:
    """The device a well-formed token says it speaks for (not yet checked)."""

    device_id: str
    mac: str


def notification_key(notification_id: str) -> bytes:
    """The notification's MAC key; blocks on KMS the first time in a container."""
    key_id = get_settings().token_hash_key_id
    root = _roots.get(key_id)
    if root is None:
        with _deriving:
            root = _roots.get(key_id)
            if root is None:
                root = capabilities.derived_key(_PURPOSE, _ROOT, key_id=key_id)
                _roots[key_id] = root
    return capabilities.subkey(root, notification_id)


def cached_notification_key(notification_id: str) -> bytes | None:
    """The notification's MAC key without blocking: None until the container derived its
    root key (`notification_key` does)."""
    root = _roots.get(get_settings().token_hash_key_id)
    return None if root is None else capabilities.subkey(root, notification_id)


def interaction_token(key: bytes, device_id: str) -> str:
    return capabilities.device_part(device_id) + capabilities.mac(key, device_id)


def claim(token: str) -> Claim | None:
    """The device a token claims, or None when it is not a token's shape at all."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    device, mac = match.groups()
    return Claim(capabilities.device_of(device), mac)


def holds(key: bytes, claimed: Claim) -> bool:
    """Whether the claim's MAC is the one `key` gives (in constant time)."""
    return capabilities.holds(key, claimed.device_id, claimed.mac)
