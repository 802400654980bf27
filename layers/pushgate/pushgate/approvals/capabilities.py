"""Decision tokens: the capability in a decision URL, bound to one approval, one device and one
action, so whoever holds the URL can take that one decision and nothing else.

A token is `<action index><device id without dev_><MAC>`: the index (one digit) and the
device say which decision it claims, the MAC proves it. The MAC key is derived per approval
inside KMS (`pushgate.capabilities`), so checking a token costs a single KMS call, whatever
the caller sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pushgate import capabilities

_PURPOSE = "pushgate-approval-decisions-v1"
# The action's index, the device, the MAC.
_TOKEN = re.compile(rf"^([0-9])({capabilities.DEVICE_PATTERN})({capabilities.MAC_PATTERN})$")


@dataclass(frozen=True, slots=True)
class Claim:
    """What a well-formed token says it decides (not yet checked)."""

    action_index: int
    device_id: str
    mac: str


def approval_key(approval_id: str) -> bytes:
    """The approval's MAC key: KMS HMAC of its id under the deployment's key."""
    return capabilities.derived_key(_PURPOSE, approval_id)


def decision_token(key: bytes, device_id: str, action_index: int) -> str:
    if not 0 <= action_index <= 9:
        raise ValueError("a decision names one of at most ten actions")
    device = capabilities.device_part(device_id)
    return f"{action_index}{device}{capabilities.mac(key, _message(device_id, action_index))}"


def claim(token: str) -> Claim | None:
    """The decision a token claims, or None when it is not a token's shape at all."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    index, device, mac = match.groups()
    return Claim(int(index), capabilities.device_of(device), mac)


def holds(key: bytes, claimed: Claim) -> bool:
    """Whether the claim's MAC is the one `key` gives (in constant time)."""
    return capabilities.holds(key, _message(claimed.device_id, claimed.action_index), claimed.mac)


def _message(device_id: str, action_index: int) -> str:
    return f"{device_id}\n{action_index}"
