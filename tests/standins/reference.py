"""Correct provider requests built without pushgate's code (PyJWT, http_ece, cryptography),
to check the stand-ins against and to serve as baselines."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.standins.fcm import FCM_SCOPE, JWT_BEARER_GRANT

DEFAULT_SUBJECT = "mailto:ops@pushgate.dev"


def google_assertion(
    service_account: Mapping[str, str],
    *,
    audience: str | None = None,
    scope: str | None = FCM_SCOPE,
    issued_at: float | None = None,
    lifetime: int = 3600,
    issuer: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
    key_id: str | None = None,
) -> str:
    """The RS256 JWT a Google client library signs to get an access token (RFC 7523)."""
    issued = int(time.time() if issued_at is None else issued_at)
    claims: dict[str, Any] = {
        "iss": issuer or service_account["client_email"],
        "aud": audience or service_account["token_uri"],
        "iat": issued,
        "exp": issued + lifetime,
    }
    if scope is not None:
        claims["scope"] = scope
    signing_key = key or serialization.load_pem_private_key(
        service_account["private_key"].encode(), password=None
    )
    return jwt.encode(
        claims,
        signing_key,  # type: ignore[arg-type]
        algorithm="RS256",
        headers={"kid": key_id or service_account["private_key_id"]},
    )


def token_request(assertion: str) -> dict[str, str]:
    """The form fields of the token request."""
    return {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}


def vapid_authorization(
    key: ec.EllipticCurvePrivateKey,
    audience: str,
    *,
    subject: str | None = DEFAULT_SUBJECT,
    expires_at: float | None = None,
    public_key: ec.EllipticCurvePublicKey | None = None,
) -> str:
    """`vapid t=<ES256 JWT>, k=<public key>` (RFC 8292), expiring in 12 h unless told."""
    claims: dict[str, Any] = {
        "aud": audience,
        "exp": int(time.time() + 12 * 3600 if expires_at is None else expires_at),
    }
    if subject is not None:
        claims["sub"] = subject
    token = jwt.encode(claims, key, algorithm="ES256", headers={"typ": "JWT"})
    point = (public_key or key.public_key()).public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return f"vapid t={token}, k={b64url(point)}"


def encrypt_for(subscription: Mapping[str, Any], plaintext: bytes) -> bytes:
    """The aes128gcm body (RFC 8291) for a subscription JSON, with a fresh sender key."""
    keys = subscription["keys"]
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(keys["p256dh"]),
        auth_secret=b64url_decode(keys["auth"]),
        version="aes128gcm",
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
