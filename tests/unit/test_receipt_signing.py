"""Receipt signatures verify with the official Standard Webhooks library and plain hmac."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from pushgate.receipts.signing import sign, webhook_id

BODY = b'{"notification_id":"ntf_1","status":"delivered"}'


def _secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def test_sign_verifies_with_standardwebhooks():
    secret = _secret()
    headers = sign("msg_1", int(time.time()), BODY, [secret])
    Webhook(secret).verify(BODY, headers)  # raises when it does not verify
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_sign_is_hmac_sha256_of_id_timestamp_body():
    secret = _secret()
    headers = sign("msg_1", 1_795_000_000, BODY, [secret])
    signed = b"msg_1.1795000000." + BODY
    expected = hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
    assert (headers["webhook-id"], headers["webhook-timestamp"]) == ("msg_1", "1795000000")


def test_sign_simple_header_is_hex_hmac_of_the_body():
    secret = _secret()
    headers = sign("msg_1", 1, BODY, [secret])
    expected = hmac.new(base64.b64decode(secret[6:]), BODY, hashlib.sha256).hexdigest()
    assert headers["X-Pushgate-Signature"] == f"sha256={expected}"


def test_sign_with_two_secrets_verifies_for_either_holder():
    new, old = _secret(), _secret()
    headers = sign("msg_2", int(time.time()), BODY, [new, old])
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(_secret()).verify(BODY, headers)


def test_webhook_id_is_stable_per_notification_and_device():
    assert webhook_id("ntf_a", "dev_b") == webhook_id("ntf_a", "dev_b")
    assert webhook_id("ntf_a", "dev_b") != webhook_id("ntf_a", "dev_c")
    assert webhook_id("ntf_a", "dev_b").startswith("msg_")
