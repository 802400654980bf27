"""Decision tokens: the capability in a decision URL, bound to one approval, one device and one
action, so whoever holds the URL can take that one decision and nothing else.

A token is `<action index><device id without dev_><MAC>`: the index (one digit) and the
device say which decision it claims, the MAC (HMAC-SHA256, 256 bits, base64url) proves it. The
MAC key is derived per approval inside KMS from the deployment's HMAC key (the one device ids
are derived with), so no token is ever stored, a token of one approval is worthless for
another, and checking one costs a single KMS call, whatever the caller sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from pushgate import aws
from pushgate.devices.identity import DEVICE_ID_PREFIX
from pushgate.settings import get_settings

# The action's index, the device id's 32 base32 characters (pushgate.devices.identity), the
# MAC's 43 base64url characters.
_TOKEN = re.compile(r"^([0-9])([a-z2-7]{32})([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class Claim:
    """What a well-formed token says it decides (not yet checked)."""

    action_index: int
    device_id: str
    mac: str


def approval_key(approval_id: str) -> bytes:
    """The approval's MAC key: KMS HMAC of its id under the deployment's key."""
    response = aws.client("kms").generate_mac(
        KeyId=get_settings().token_hash_key_id,
        MacAlgorithm="HMAC_SHA_256",
        Message=f"pushgate-approval-decisions-v1\n{approval_id}".encode(),
    )
    return bytes(response["Mac"])


def decision_token(key: bytes, device_id: str, action_index: int) -> str:
    if not device_id.startswith(DEVICE_ID_PREFIX) or not 0 <= action_index <= 9:
        raise ValueError("a decision names a pushgate device and one of at most ten actions")
    device = device_id.removeprefix(DEVICE_ID_PREFIX)
    return f"{action_index}{device}{_mac(key, device_id, action_index)}"


def claim(token: str) -> Claim | None:
    """The decision a token claims, or None when it is not a token's shape at all."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    index, device, mac = match.groups()
    return Claim(int(index), DEVICE_ID_PREFIX + device, mac)


def holds(key: bytes, claimed: Claim) -> bool:
    """Whether the claim's MAC is the one `key` gives (in constant time)."""
    expected = _mac(key, claimed.device_id, claimed.action_index)
    return hmac.compare_digest(expected, claimed.mac)


def _mac(key: bytes, device_id: str, action_index: int) -> str:
    digest = hmac.new(key, f"{device_id}\n{action_index}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
