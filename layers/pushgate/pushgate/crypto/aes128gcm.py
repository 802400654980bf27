"""Web Push message encryption (RFC 8291) over the aes128gcm content coding (RFC 8188).

Only the sending side: opening bodies is the browser's job (the tests' stand-in does it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pushgate.crypto._base64 import b64decode
from pushgate.crypto.exceptions import InvalidKeyError, PlaintextTooLargeError

# RFC 8188 §2: header = salt(16) ‖ rs(uint32) ‖ idlen(uint8) ‖ keyid(idlen).
SALT_LENGTH = 16
RECORD_SIZE_LENGTH = 4
TAG_LENGTH = 16
# RFC 8188 §2.2-2.3: CEK and NONCE come from HKDF(salt, IKM) with these infos.
CEK_INFO = b"Content-Encoding: aes128gcm\x00"
CEK_LENGTH = 16
NONCE_INFO = b"Content-Encoding: nonce\x00"
NONCE_LENGTH = 12
# RFC 8188 §2: the padding delimiter closing the last record (pushgate writes only one).
LAST_RECORD_DELIMITER = 0x02
# RFC 8291 §3.3-3.4: IKM = HKDF(auth_secret, ecdh_secret, key_info, 32).
WEBPUSH_INFO = b"WebPush: info\x00"
IKM_LENGTH = 32
AUTH_SECRET_LENGTH = 16
PUBLIC_KEY_LENGTH = 65  # SEC 1 uncompressed P-256 point, also the keyid (RFC 8291 §4)
# RFC 8291 §4: one record in a body of at most 4096 octets, so 3993 octets of plaintext.
RECORD_SIZE = 4096
HEADER_LENGTH = SALT_LENGTH + RECORD_SIZE_LENGTH + 1 + PUBLIC_KEY_LENGTH
MAX_PLAINTEXT_LENGTH = RECORD_SIZE - HEADER_LENGTH - 1 - TAG_LENGTH

_P256 = ec.SECP256R1()
_ECDH = ec.ECDH()
_SHA256 = hashes.SHA256()
_X962 = serialization.Encoding.X962
_UNCOMPRESSED = serialization.PublicFormat.UncompressedPoint
_LAST_DELIMITER = bytes([LAST_RECORD_DELIMITER])
_CEK_INFO_T1 = CEK_INFO + b"\x01"
_NONCE_INFO_T1 = NONCE_INFO + b"\x01"
# What every push message header holds between the salt and the keyid.
_WEBPUSH_RS_IDLEN = RECORD_SIZE.to_bytes(RECORD_SIZE_LENGTH, "big") + bytes([PUBLIC_KEY_LENGTH])


@dataclass(frozen=True, slots=True)
class SubscriptionKeys:
    """A push subscription's `p256dh` point and `auth` secret, validated and parsed once."""

    p256dh: bytes
    auth: bytes = field(repr=False)
    public_key: ec.EllipticCurvePublicKey = field(repr=False, compare=False)

    @classmethod
    def parse(cls, p256dh: str | bytes, auth: str | bytes) -> SubscriptionKeys:
        """Validate the keys of `PushSubscription.getKey()`: `str` values are base64 in any
        spelling, `bytes` values are raw. Raises `InvalidKeyError`."""
        point = _decode_key_field(p256dh, "p256dh")
        secret = _decode_key_field(auth, "auth")
        if len(point) != PUBLIC_KEY_LENGTH or point[0] != 0x04:
            raise InvalidKeyError("p256dh must be a 65-byte uncompressed P-256 point")
        if len(secret) != AUTH_SECRET_LENGTH:
            raise InvalidKeyError("auth must be a 16-byte secret")
        try:
            public_key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, point)
        except ValueError:
            raise InvalidKeyError("p256dh is not a point on P-256") from None
        return cls(point, secret, public_key)


def encrypt(
    plaintext: bytes,
    keys: SubscriptionKeys,
    *,
    salt: bytes | None = None,
    ephemeral_key: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """The aes128gcm body of a push message for `keys` (RFC 8291 §3-4): one 4096 record.

    `salt` and `ephemeral_key` are fresh random values unless a known-answer test injects
    them. Raises `PlaintextTooLargeError` above 3993 bytes.
    """
    if len(plaintext) > MAX_PLAINTEXT_LENGTH:
        raise PlaintextTooLargeError(len(plaintext), MAX_PLAINTEXT_LENGTH)
    if salt is None:
        salt = os.urandom(SALT_LENGTH)
    elif len(salt) != SALT_LENGTH:
        raise ValueError("salt must be 16 bytes")
    else:
        salt = bytes(salt)
    if ephemeral_key is None:
        ephemeral_key = ec.generate_private_key(_P256)
    elif not isinstance(ephemeral_key.curve, ec.SECP256R1):
        raise ValueError("the ephemeral key must be on P-256")
    sender_public = ephemeral_key.public_key().public_bytes(_X962, _UNCOMPRESSED)
    ecdh_secret = ephemeral_key.exchange(_ECDH, keys.public_key)
    ikm = _webpush_ikm(ecdh_secret, keys.auth, keys.p256dh, sender_public)
    cek, nonce = _content_key_and_nonce(ikm, salt)
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + _LAST_DELIMITER, None)
    return salt + _WEBPUSH_RS_IDLEN + sender_public + ciphertext


def _webpush_ikm(
    ecdh_secret: bytes, auth_secret: bytes, receiver_public: bytes, sender_public: bytes
) -> bytes:
    # RFC 8291 §3.4: key_info = "WebPush: info" ‖ 0x00 ‖ ua_public ‖ as_public.
    key_info = WEBPUSH_INFO + receiver_public + sender_public
    return HKDF(_SHA256, IKM_LENGTH, auth_secret, key_info).derive(ecdh_secret)


def _content_key_and_nonce(ikm: bytes, salt: bytes) -> tuple[bytes, bytes]:
    # RFC 8188 §2.2-2.3: CEK and NONCE are HKDF(salt, IKM) with two infos, so one PRK serves
    # both. Each fits in one SHA-256 block, where HKDF-Expand (RFC 5869 §2.3) is the single
    # T(1) = HMAC(PRK, info ‖ 0x01); copying the keyed HMAC is cheaper than two HKDFExpand.
    prk = HKDF.extract(_SHA256, salt, ikm)
    cek_mac = hmac.HMAC(prk, _SHA256)
    nonce_mac = cek_mac.copy()
    cek_mac.update(_CEK_INFO_T1)
    nonce_mac.update(_NONCE_INFO_T1)
    return cek_mac.finalize()[:CEK_LENGTH], nonce_mac.finalize()[:NONCE_LENGTH]


def _decode_key_field(value: str | bytes, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        try:
            return b64decode(value)
        except ValueError:
            raise InvalidKeyError(f"{name} is not base64") from None
    raise InvalidKeyError(f"{name} must be str or bytes")
