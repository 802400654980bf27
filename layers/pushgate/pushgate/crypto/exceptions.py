"""The crypto package's exceptions, documented in one place.

    CryptoError                  base: catch this to map any crypto failure to a 4xx
    ├── InvalidKeyError          key material is unusable: wrong type or curve (P-256 only),
    │                            not on the curve, bad length or encoding
    ├── CanonicalJSONError       a value has no RFC 8785 form (NaN, Infinity, a non-string
    │                            key, a lone surrogate, an unsupported type)
    ├── InvalidVapidClaimError   a VAPID JWT cannot be signed for this audience, subject or
    │                            lifetime (endpoint that is not an http(s) URL, exp > 24 h)
    └── PlaintextTooLargeError   a Web Push plaintext over 3993 bytes (RFC 8291 §4)

Everything that depends on data from outside raises one of these and nothing else. Misuse by
the calling code (a salt of the wrong length injected by a test, a non-bytes plaintext) raises
the usual `ValueError`/`TypeError`. Messages never contain key material, tokens or payloads.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error raised by `pushgate.crypto`. Not raised directly."""


class InvalidKeyError(CryptoError):
    """Key material that cannot be used: wrong key type or curve, bad encoding or length."""


class CanonicalJSONError(CryptoError):
    """A value that has no RFC 8785 canonical form."""


class InvalidVapidClaimError(CryptoError):
    """An audience, subject or lifetime that a VAPID JWT must not carry."""


class PlaintextTooLargeError(CryptoError):
    """A Web Push plaintext larger than one 4096-byte aes128gcm record can carry."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"plaintext is {length} bytes; a push message carries at most {limit}")
        self.length = length
        self.limit = limit
