"""Field encryption at rest: AES-256-GCM under a KMS-wrapped data key, bound to its row.

Each value is sealed with a data key generated in the container and wrapped once with
`kms:Encrypt`; the wrapped key travels inside the value, so decryption needs one
`kms:Decrypt` per data key per container, not per value. The associated data names the
row and attribute the value belongs to, so a ciphertext copied onto another row fails.

Wire format (base64url, prefixed `pg1.`): version(1) ‖ len(wrapped key)(2) ‖ wrapped key ‖
nonce(12) ‖ ciphertext+tag.
"""

from __future__ import annotations

import base64
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pushgate import aws, clock
from pushgate.settings import get_settings

_PREFIX = "pg1."
_VERSION = 1
_NONCE_BYTES = 12
_DATA_KEY_LIFETIME_SECONDS = 3600.0
_DATA_KEY_MAX_USES = 1_000_000
_UNWRAPPED_CACHE_SIZE = 64
_KMS_CONTEXT = {"purpose": "pushgate-field-encryption"}


class FieldDecryptionError(Exception):
    """A sealed value is malformed, was moved to another row, or its key is unavailable."""


class FieldCipher:
    """Seals and opens attribute values. `kms` is injectable for tests."""

    def __init__(self, key_id: str, kms: Callable[[], Any] = lambda: aws.client("kms")) -> None:
        self._key_id = key_id
        self._kms = kms
        self._lock = threading.Lock()
        self._current: tuple[bytes, AESGCM, float] | None = None
        self._uses = 0
        self._unwrapped: OrderedDict[bytes, AESGCM] = OrderedDict()

    def seal(self, plaintext: bytes, *, binding: str) -> str:
        wrapped, aead = self._data_key()
        nonce = os.urandom(_NONCE_BYTES)
        body = aead.encrypt(nonce, plaintext, _aad(binding))
        blob = struct.pack(">BH", _VERSION, len(wrapped)) + wrapped + nonce + body
        return _PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def open(self, sealed: str, *, binding: str) -> bytes:
        try:
            if not sealed.startswith(_PREFIX):
                raise ValueError("unknown format")
            blob = base64.urlsafe_b64decode(sealed[len(_PREFIX) :] + "=" * (-len(sealed) % 4))
            version, length = struct.unpack_from(">BH", blob)
            if version != _VERSION:
                raise ValueError("unknown version")
            wrapped = blob[3 : 3 + length]
            nonce = blob[3 + length : 3 + length + _NONCE_BYTES]
            body = blob[3 + length + _NONCE_BYTES :]
            return self._unwrap(wrapped).decrypt(nonce, body, _aad(binding))
        except (ValueError, struct.error, InvalidTag) as exc:
            raise FieldDecryptionError("sealed value does not open for this row") from exc

    def _data_key(self) -> tuple[bytes, AESGCM]:
        with self._lock:
            now = clock.epoch()
            if (
                self._current is None
                or now - self._current[2] > _DATA_KEY_LIFETIME_SECONDS
                or self._uses >= _DATA_KEY_MAX_USES
            ):
                key = AESGCM.generate_key(bit_length=256)
                response = self._kms().encrypt(
                    KeyId=self._key_id, Plaintext=key, EncryptionContext=_KMS_CONTEXT
                )
                self._current = (response["CiphertextBlob"], AESGCM(key), now)
                self._uses = 0
                self._remember(response["CiphertextBlob"], self._current[1])
            self._uses += 1
            return self._current[0], self._current[1]

    def _unwrap(self, wrapped: bytes) -> AESGCM:
        with self._lock:
            if (aead := self._unwrapped.get(wrapped)) is not None:
                self._unwrapped.move_to_end(wrapped)
                return aead
        try:
            response = self._kms().decrypt(CiphertextBlob=wrapped, EncryptionContext=_KMS_CONTEXT)
        except Exception as exc:  # botocore's error tree: InvalidCiphertext, access denied, ...
            raise ValueError("data key does not unwrap") from exc
        aead = AESGCM(response["Plaintext"])
        with self._lock:
            self._remember(wrapped, aead)
        return aead

    def _remember(self, wrapped: bytes, aead: AESGCM) -> None:
        self._unwrapped[wrapped] = aead
        while len(self._unwrapped) > _UNWRAPPED_CACHE_SIZE:
            self._unwrapped.popitem(last=False)


def _aad(binding: str) -> bytes:
    return b"pushgate-field-v1|" + binding.encode()


@cache
def get_cipher() -> FieldCipher:
    """The container's cipher, using the deployment's KMS key."""
    return FieldCipher(get_settings().field_encryption_key_id)
