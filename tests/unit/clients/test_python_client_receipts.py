"""`verify_receipt` against the Standard Webhooks reference implementation (the
`standardwebhooks` package) and pushgate's own signer, both ways round."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from pushgate.receipts.signing import sign
from pushgate_client import InvalidReceiptError, verify_receipt

BODY = json.dumps({"type": "delivery", "notification_id": "ntf_1"}).encode()


def secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def reference_headers(key: str, body: bytes, message_id: str = "msg_1", at: int | None = None):
    at = int(time.time()) if at is None else at
    signature = Webhook(key).sign(message_id, datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(at), "webhook-signature": signature}


def test_a_receipt_signed_by_the_reference_implementation_verifies() -> None:
    key = secret()

    assert verify_receipt(BODY, reference_headers(key, BODY), key) == json.loads(BODY)


def test_what_verifies_here_verifies_in_the_reference_implementation_too() -> None:
    key, at = secret(), int(time.time())
    headers = {"webhook-id": "msg_9", "webhook-timestamp": str(at)}
    headers |= sign("msg_9", at, BODY, [key])

    assert verify_receipt(BODY, headers, key) == Webhook(key).verify(BODY, headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    new, old, at = secret(), secret(), int(time.time())
    headers = {"webhook-id": "m", "webhook-timestamp": str(at)} | sign("m", at, BODY, [new, old])

    assert verify_receipt(BODY, headers, new)["notification_id"] == "ntf_1"
    assert verify_receipt(BODY, headers, old)["notification_id"] == "ntf_1"
    with pytest.raises(InvalidReceiptError):
        verify_receipt(BODY, headers, secret())


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"ntf_1", b"ntf_2")),
        lambda h, b: (h | {"webhook-id": "msg_2"}, b),
        lambda h, b: (h | {"webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
        lambda h, b: (h | {"webhook-signature": "v2," + h["webhook-signature"][3:]}, b),
    ],
    ids=["body", "id", "timestamp", "no-signature", "other-version"],
)
def test_anything_changed_is_refused(tamper) -> None:
    key = secret()
    headers, body = tamper(reference_headers(key, BODY), BODY)

    with pytest.raises(InvalidReceiptError):
        verify_receipt(body, headers, key)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the reference refuses it too
        Webhook(key).verify(body, headers)


def test_a_replay_older_than_five_minutes_is_refused() -> None:
    key = secret()
    headers = reference_headers(key, BODY, at=int(time.time()) - 301)

    with pytest.raises(InvalidReceiptError, match="five minutes"):
        verify_receipt(BODY, headers, key)


def test_headers_are_matched_without_regard_to_case() -> None:
    key = secret()
    headers = {k.title(): v for k, v in reference_headers(key, BODY).items()}

    assert verify_receipt(BODY.decode(), headers, key) == json.loads(BODY)
