"""The browser's side of Web Push crypto, for the Web Push stand-in: open aes128gcm bodies
(RFC 8291 over RFC 8188). pushgate only encrypts, so this lives with the tests.

The keys are derived with plain HKDF, written from the RFCs rather than shared with
`pushgate.crypto.aes128gcm`, so a mistake in pushgate's derivation cannot hide in both.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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

# RFC 8188 §2: the smallest record size, and the delimiter closing every record but the last.
MIN_RECORD_SIZE = 18
RECORD_DELIMITER = 0x01

_P256 = ec.SECP256R1()


class DecryptionError(Exception):
    """An aes128gcm body that is malformed or does not authenticate."""


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
