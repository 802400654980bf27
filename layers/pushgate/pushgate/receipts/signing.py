"""Receipt signatures: Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) plus
`X-Pushgate-Signature: sha256=<hex HMAC-SHA256 of the body>` for simple verifiers.

Secrets are `whsec_` + base64 of the key bytes. While a rotated-out secret is still honoured,
`webhook-signature` carries one `v1,` entry per secret (space-separated, newest first), so a
receiver holding either secret verifies; `X-Pushgate-Signature` uses the newest secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def webhook_id(subject_id: str, part: str) -> str:
    """Stable for one receipt across every retry and redelivery, so receivers can dedupe: a
    notification's on one device, or an approval's ("approval")."""
    digest = hashlib.sha256(f"{subject_id}\n{part}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def sign(message_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The signature headers for one delivery attempt (`secrets` newest first)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )
    simple = hmac.new(secret_key(secrets[0]), body, hashlib.sha256).hexdigest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "X-Pushgate-Signature": f"sha256={simple}",
    }
