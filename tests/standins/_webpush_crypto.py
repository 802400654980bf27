"""The receiving side of Web Push crypto, for the Web Push stand-in: check `Authorization:
vapid` headers as a push service does (RFC 8292) and open aes128gcm bodies as a browser does
(RFC 8291 over RFC 8188). pushgate only signs and encrypts, so this lives with the tests.

The body keys are derived with plain HKDF, written from the RFCs rather than shared with
`pushgate.crypto.aes128gcm`, so a mistake in pushgate's derivation cannot hide in both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pushgate import clock
from pushgate.crypto import b64decode, verify_signature
from pushgate.crypto.aes128gcm import (
    AUTH_SECRET_LENGTH,
    CEK_INFO,
    CEK_LENGTH,
    HEADER_LENGTH,
    IKM_LENGTH,
    LAST_RECORD_DELIMITER,
    NONCE_INFO,
    NONCE_LENGTH,
    PUBLIC_KEY_LENGTH,
    RECORD_SIZE_LENGTH,
    SALT_LENGTH,
    TAG_LENGTH,
    WEBPUSH_INFO,
)
from pushgate.crypto.es256 import RAW_SIGNATURE_LENGTH
from pushgate.crypto.vapid import MAX_LIFETIME, SCHEME

# RFC 8292 §2: the token is a JWS signed with ES256.
JWT_ALGORITHM = "ES256"
# RFC 8188 §2: the smallest record size, and the delimiter closing every record but the last.
MIN_RECORD_SIZE = 18
RECORD_DELIMITER = 0x01

_P256 = ec.SECP256R1()


class InvalidVapidError(Exception):
    """An `Authorization: vapid` value a push service refuses: malformed, not signed by its
    `k`, or with claims it must not accept."""


class DecryptionError(Exception):
    """An aes128gcm body that is malformed or does not authenticate."""


@dataclass(frozen=True, slots=True)
class VapidClaims:
    """What a verified `Authorization: vapid` header asserts."""

    public_key: str
    audience: str
    subject: str
    expires_at: int


def verify_vapid_authorization(
    header: str,
    *,
    audience: str | None = None,
    now: float | None = None,
    max_lifetime: int = MAX_LIFETIME,
) -> VapidClaims:
    """Check an `Authorization: vapid t=..., k=...` value the way a push service does: the
    ES256 signature against k, `aud` (equal to `audience` when given), `exp` in the future and
    at most `max_lifetime` ahead, `sub` present. Raises `InvalidVapidError` and nothing else,
    whatever the header holds.
    """
    try:
        return _verify(header, audience, clock.epoch() if now is None else now, max_lifetime)
    except InvalidVapidError:
        raise
    except (ValueError, TypeError, AttributeError, RecursionError):
        raise InvalidVapidError("malformed VAPID authorization") from None


def _verify(header: str, audience: str | None, now: float, max_lifetime: int) -> VapidClaims:
    token, public_key = _credentials(header)
    encoded_header, encoded_claims, encoded_signature = token.split(".")
    jwt_header = json.loads(b64decode(encoded_header))
    if not isinstance(jwt_header, dict) or jwt_header.get("alg") != JWT_ALGORITHM:
        raise InvalidVapidError("VAPID token must be signed with ES256")
    signature = b64decode(encoded_signature)
    if len(signature) != RAW_SIGNATURE_LENGTH:
        raise InvalidVapidError("VAPID signature must be raw R ‖ S")
    # RFC 8292 §3.2: k is the uncompressed point (an off-curve one is a ValueError).
    point = b64decode(public_key)
    if len(point) != PUBLIC_KEY_LENGTH or point[0] != 0x04:
        raise InvalidVapidError("VAPID k must be an uncompressed P-256 point")
    key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, point)
    signing_input = f"{encoded_header}.{encoded_claims}".encode("ascii")
    if not verify_signature(key, signature, signing_input):
        raise InvalidVapidError("VAPID signature does not verify against k")
    claims = json.loads(b64decode(encoded_claims))
    if not isinstance(claims, dict):
        raise InvalidVapidError("VAPID claims must be a JSON object")
    aud, exp, sub = claims.get("aud"), claims.get("exp"), claims.get("sub")
    if not isinstance(aud, str) or (audience is not None and aud != audience):
        raise InvalidVapidError("VAPID aud does not name this push service")
    if not isinstance(exp, int) or isinstance(exp, bool) or not now < exp <= now + max_lifetime:
        raise InvalidVapidError("VAPID exp is missing, past, or more than 24 hours ahead")
    if not isinstance(sub, str) or not sub:
        raise InvalidVapidError("VAPID sub is missing")
    return VapidClaims(public_key=public_key, audience=aud, subject=sub, expires_at=exp)


def _credentials(header: str) -> tuple[str, str]:
    """The t= and k= parameters of `vapid t=..., k=...` (RFC 8292 §3)."""
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        raise InvalidVapidError("authorization scheme is not vapid")
    params: dict[str, str] = {}
    for item in credentials.split(","):
        name, separator, value = item.strip().partition("=")
        if separator:
            params[name.strip().lower()] = value.strip().strip('"')
    token, public_key = params.get("t"), params.get("k")
    if not token or not public_key:
        raise InvalidVapidError("vapid authorization needs t= and k=")
    return token, public_key


def decrypt(body: bytes, private_key: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """The user agent's side of RFC 8291: open a push message body with the subscription's
    private key and auth secret. Multi-record bodies are read per RFC 8188.

    Raises `DecryptionError` for a malformed or forged body, `ValueError` for keys that
    cannot be a subscription's (a bug in the caller, not in the body).
    """
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise ValueError("the subscription key must be a P-256 private key")
    if len(auth_secret) != AUTH_SECRET_LENGTH:
        raise ValueError("auth must be a 16-byte secret")
    body = bytes(body)
    if len(body) < HEADER_LENGTH or body[SALT_LENGTH + RECORD_SIZE_LENGTH] != PUBLIC_KEY_LENGTH:
        raise DecryptionError("keyid must be the sender's 65-byte public key")
    sender_public = body[HEADER_LENGTH - PUBLIC_KEY_LENGTH : HEADER_LENGTH]
    try:
        sender_key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, sender_public)
    except ValueError:
        raise DecryptionError("keyid is not a point on P-256") from None
    ecdh_secret = private_key.exchange(ec.ECDH(), sender_key)
    receiver_public = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    # RFC 8291 §3.4: key_info = "WebPush: info" ‖ 0x00 ‖ ua_public ‖ as_public.
    key_info = WEBPUSH_INFO + receiver_public + sender_public
    return decrypt_content(body, _hkdf(auth_secret, key_info, IKM_LENGTH, ecdh_secret))


def decrypt_content(body: bytes, ikm: bytes) -> bytes:
    """Open an RFC 8188 aes128gcm body of one or more records with its input keying material.

    The keyid is not interpreted: choosing the IKM is the caller's business. Raises
    `DecryptionError` for a truncated, malformed, reordered or forged body.
    """
    body = bytes(body)
    if len(body) < SALT_LENGTH + RECORD_SIZE_LENGTH + 1:
        raise DecryptionError("body is shorter than an aes128gcm header")
    salt = body[:SALT_LENGTH]
    record_size = int.from_bytes(body[SALT_LENGTH : SALT_LENGTH + RECORD_SIZE_LENGTH], "big")
    start = SALT_LENGTH + RECORD_SIZE_LENGTH + 1 + body[SALT_LENGTH + RECORD_SIZE_LENGTH]
    if record_size < MIN_RECORD_SIZE:
        raise DecryptionError("record size is below 18")
    if len(body) <= start:
        raise DecryptionError("body holds no record")
    # RFC 8188 §2.2-2.3: CEK and NONCE are HKDF(salt, IKM) with their own infos.
    aead = AESGCM(_hkdf(salt, CEK_INFO, CEK_LENGTH, ikm))
    base_nonce = int.from_bytes(_hkdf(salt, NONCE_INFO, NONCE_LENGTH, ikm), "big")
    plaintext: list[bytes] = []
    for sequence, offset in enumerate(range(start, len(body), record_size)):
        record = body[offset : offset + record_size]
        last = offset + record_size >= len(body)
        if len(record) <= TAG_LENGTH:
            raise DecryptionError("record is truncated")
        # RFC 8188 §2.3: the nonce of record SEQ is NONCE XOR SEQ.
        record_nonce = (base_nonce ^ sequence).to_bytes(NONCE_LENGTH, "big")
        try:
            padded = aead.decrypt(record_nonce, record, None)
        except InvalidTag:
            raise DecryptionError("record does not authenticate") from None
        unpadded = padded.rstrip(b"\x00")
        expected = LAST_RECORD_DELIMITER if last else RECORD_DELIMITER
        if not unpadded or unpadded[-1] != expected:
            raise DecryptionError("record has a wrong padding delimiter (truncated body?)")
        plaintext.append(unpadded[:-1])
    return b"".join(plaintext)


def _hkdf(salt: bytes, info: bytes, length: int, ikm: bytes) -> bytes:
    return HKDF(hashes.SHA256(), length, salt, info).derive(ikm)
