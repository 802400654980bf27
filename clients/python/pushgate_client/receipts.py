"""Verifying a receipt pushgate POSTed to your webhook, as Standard Webhooks specifies:
`webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
`"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the base64 key inside your
`whsec_` secret; the timestamp must be within five minutes of now (replays are refused)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from pushgate_client.errors import InvalidReceiptError

__all__ = ["TOLERANCE_SECONDS", "verify_receipt"]

TOLERANCE_SECONDS = 300


def verify_receipt(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The receipt (`type` "delivery", "approval" or "interaction") when `body` was signed
    with `secret`; raises InvalidReceiptError otherwise. Pass the body exactly as received.
    During a secret rotation either secret verifies."""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lowered = {key.lower(): value for key, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not message_id or not timestamp.isdigit() or not signatures:
        raise InvalidReceiptError("missing webhook-id, webhook-timestamp or webhook-signature")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidReceiptError("the webhook-timestamp is more than five minutes off")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError as exc:
        raise InvalidReceiptError("the secret is not a whsec_ secret") from exc
    signed = f"{message_id}.{timestamp}.".encode() + raw
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise InvalidReceiptError("the signed body is not JSON") from exc
    raise InvalidReceiptError("no webhook-signature entry matches")
