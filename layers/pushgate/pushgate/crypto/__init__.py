"""pushgate's cryptography: ES256 gateway-client signatures over RFC 8785 canonical JSON,
VAPID (RFC 8292) and Web Push message encryption (RFC 8291 over RFC 8188 aes128gcm).

Everything is pure (bytes in, bytes out) and built on `cryptography`'s primitives; the
exception tree is documented in `pushgate.crypto.exceptions`.
"""

from pushgate.crypto._base64 import b64decode, b64url_encode
from pushgate.crypto.aes128gcm import MAX_PLAINTEXT_LENGTH, SubscriptionKeys, encrypt
from pushgate.crypto.canonical_json import canonicalize
from pushgate.crypto.es256 import load_public_key, sign, verify_payload, verify_signature
from pushgate.crypto.exceptions import (
    CanonicalJSONError,
    CryptoError,
    InvalidKeyError,
    InvalidVapidClaimError,
    PlaintextTooLargeError,
)
from pushgate.crypto.vapid import (
    VapidHeaderCache,
    VapidKey,
    sign_vapid_jwt,
    vapid_audience,
    vapid_authorization,
)

__all__ = [
    "MAX_PLAINTEXT_LENGTH",
    "CanonicalJSONError",
    "CryptoError",
    "InvalidKeyError",
    "InvalidVapidClaimError",
    "PlaintextTooLargeError",
    "SubscriptionKeys",
    "VapidHeaderCache",
    "VapidKey",
    "b64decode",
    "b64url_encode",
    "canonicalize",
    "encrypt",
    "load_public_key",
    "sign",
    "sign_vapid_jwt",
    "vapid_audience",
    "vapid_authorization",
    "verify_payload",
    "verify_signature",
]
