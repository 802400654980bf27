"""Capability URLs: a token in a URL that is its own credential, bound to what it may do.

Every token pushgate mints is a MAC (HMAC-SHA256, 256 bits, base64url: 43 characters) under a
key derived inside KMS from the deployment's HMAC key (`TokenHashKey`, the one device ids
are derived with) for one purpose and one subject, so no token is ever stored and a token of
one subject is worthless for another. Tokens name a device by its id without `dev_` (32
base32 characters). Approvals' decision tokens (`pushgate.approvals.capabilities`) and
notifications' interaction tokens (`pushgate.interactions.capabilities`) are built from these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from pushgate import aws
from pushgate.devices.identity import DEVICE_ID_PREFIX
from pushgate.settings import get_settings

MAC_PATTERN = r"[A-Za-z0-9_-]{43}"
DEVICE_PATTERN = r"[a-z2-7]{32}"  # a device id's digest (pushgate.devices.identity)
# The longest URL a capability is under: the API's (the template's PublicApiUrl allows
# https:// and 100 characters; the API's own endpoint is shorter).
MAX_BASE_URL_LENGTH = len("https://") + 100


def derived_key(purpose: str, subject: str, *, key_id: str | None = None) -> bytes:
    """A MAC key for `subject`, one KMS call: KMS HMAC of `purpose` and `subject` under the
    deployment's key (or `key_id`). `purpose` names the kind of token and its version."""
    response = aws.client("kms").generate_mac(
        KeyId=key_id or get_settings().token_hash_key_id,
        MacAlgorithm="HMAC_SHA_256",
        Message=f"{purpose}\n{subject}".encode(),
    )
    return bytes(response["Mac"])


def subkey(key: bytes, subject: str) -> bytes:
    """A key for `subject` under `key`, computed here: for tokens too many to derive each
    key in KMS."""
    return hmac.new(key, subject.encode(), hashlib.sha256).digest()


def mac(key: bytes, message: str) -> str:
    """The MAC a token carries for `message`: 43 base64url characters."""
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def holds(key: bytes, message: str, claimed_mac: str) -> bool:
    """Whether `claimed_mac` is the MAC of `message` under `key` (in constant time)."""
    return hmac.compare_digest(mac(key, message), claimed_mac)


def device_part(device_id: str) -> str:
    """How a token names a device: its id without `dev_`."""
    if not device_id.startswith(DEVICE_ID_PREFIX):
        raise ValueError("a capability names a pushgate device")
    return device_id.removeprefix(DEVICE_ID_PREFIX)


def device_of(part: str) -> str:
    """The device id a token's device part names."""
    return DEVICE_ID_PREFIX + part
