"""Interop with independent implementations: http_ece (Python) and web-push, http_ece and
WebCrypto (node), each way, for the payload sizes that matter."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pushgate.crypto import (
    SubscriptionKeys,
    canonicalize,
    encrypt,
    load_public_key,
    verify_payload,
    verify_signature,
)
from tests.standins._webpush_crypto import decrypt
from tests.user_agent import UserAgent

# The `node` fixture (conftest.py): run a tests/interop script, JSON in and out.
NodeRunner = Callable[[str, dict[str, object]], dict[str, Any]]

PAYLOADS = {
    "empty": b"",
    "one-byte": b"x",
    "max-3993": bytes(range(256)) * 15 + bytes(153),
    "utf8": "Grüße 🎉 — 通知が届きました".encode(),
}
GATEWAY_PAYLOAD = {
    "action": "register",
    "instance": "a.example",
    "userId": "ü-1",
    "issuedAt": 1.5e9,
}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scalar_of(private_key: ec.EllipticCurvePrivateKey) -> str:
    return b64u(private_key.private_numbers().private_value.to_bytes(32, "big"))


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_http_ece_decrypts_what_encrypt_writes(user_agent: UserAgent, payload: bytes) -> None:
    body = encrypt(payload, SubscriptionKeys.parse(user_agent.p256dh, user_agent.auth))

    opened = http_ece.decrypt(body, private_key=user_agent.private_key, auth_secret=user_agent.auth)

    assert opened == payload


@pytest.mark.interop
def test_decrypt_opens_what_web_push_js_writes(node: NodeRunner, user_agent: UserAgent) -> None:
    cases = [
        {"p256dh": b64u(user_agent.p256dh), "auth": b64u(user_agent.auth), "payload": b64u(p)}
        for p in PAYLOADS.values()
    ]

    bodies = node("webpush_encrypt.js", {"cases": cases})["bodies"]

    opened = [decrypt(unb64u(body), user_agent.private_key, user_agent.auth) for body in bodies]
    assert opened == list(PAYLOADS.values())


@pytest.mark.interop
def test_http_ece_js_decrypts_what_encrypt_writes(node: NodeRunner, user_agent: UserAgent) -> None:
    keys = SubscriptionKeys.parse(b64u(user_agent.p256dh), b64u(user_agent.auth))
    cases = [
        {
            "private_key": scalar_of(user_agent.private_key),
            "auth": b64u(user_agent.auth),
            "body": b64u(encrypt(payload, keys)),
        }
        for payload in PAYLOADS.values()
    ]

    plaintexts = node("webpush_decrypt.js", {"cases": cases})["plaintexts"]

    assert [unb64u(p) for p in plaintexts] == list(PAYLOADS.values())


@pytest.fixture(scope="module")
def webcrypto(node: NodeRunner) -> dict[str, object]:
    messages = [b"raw body bytes", canonicalize(GATEWAY_PAYLOAD)]
    return node("webcrypto_sign.js", {"messages": [b64u(m) for m in messages]})


def webcrypto_pem(webcrypto: dict[str, object]) -> str:
    """The exported SPKI as the PEM a takos well-known document carries."""
    der = base64.b64encode(unb64u(webcrypto["spki"]))  # type: ignore[arg-type]
    lines = [der[i : i + 64].decode() for i in range(0, len(der), 64)]
    return "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----"])


@pytest.mark.interop
def test_verify_signature_accepts_webcrypto_signatures(webcrypto: dict[str, object]) -> None:
    signature = webcrypto["signatures"][0]  # type: ignore[index]

    assert verify_signature(webcrypto_pem(webcrypto), signature, b"raw body bytes") is True


@pytest.mark.interop
def test_verify_payload_accepts_webcrypto_signature_over_canonical_json(
    webcrypto: dict[str, object],
) -> None:
    signature = webcrypto["signatures"][1]  # type: ignore[index]
    reordered = dict(reversed(list(GATEWAY_PAYLOAD.items())))

    assert verify_payload(load_public_key(webcrypto_pem(webcrypto)), signature, reordered) is True


@pytest.mark.interop
def test_verify_signature_rejects_webcrypto_signature_over_other_bytes(
    webcrypto: dict[str, object],
) -> None:
    signature = webcrypto["signatures"][0]  # type: ignore[index]

    assert verify_signature(webcrypto_pem(webcrypto), signature, b"raw body bytez") is False
