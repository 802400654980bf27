"""RFC 8291 Web Push encryption over RFC 8188 aes128gcm: vectors, limits, key validation.
(Opening bodies is the stand-in's: tests/unit/standins/test_standins_webpush_crypto.py.)"""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto import (
    MAX_PLAINTEXT_LENGTH,
    InvalidKeyError,
    PlaintextTooLargeError,
    SubscriptionKeys,
    encrypt,
)
from tests.standins._webpush_crypto import decrypt
from tests.unit.crypto.vectors import (
    RFC8291_AS_PRIVATE,
    RFC8291_AUTH,
    RFC8291_BODY,
    RFC8291_PLAINTEXT,
    RFC8291_SALT,
    RFC8291_UA_PRIVATE,
    RFC8291_UA_PUBLIC,
    b64u,
    scalar_key,
)


@pytest.fixture
def rfc_keys() -> SubscriptionKeys:
    return SubscriptionKeys.parse(RFC8291_UA_PUBLIC, RFC8291_AUTH)


def test_encrypt_reproduces_rfc8291_appendix_a(rfc_keys: SubscriptionKeys) -> None:
    body = encrypt(
        RFC8291_PLAINTEXT,
        rfc_keys,
        salt=b64u(RFC8291_SALT),
        ephemeral_key=scalar_key(RFC8291_AS_PRIVATE),
    )

    assert body == b64u(RFC8291_BODY)


def test_encrypt_writes_salt_record_size_and_sender_key_header(rfc_keys: SubscriptionKeys) -> None:
    salt = os.urandom(16)
    sender = ec.generate_private_key(ec.SECP256R1())

    body = encrypt(b"hello", rfc_keys, salt=salt, ephemeral_key=sender)

    sender_point = sender.public_key().public_numbers()
    assert body[:16] == salt
    assert int.from_bytes(body[16:20], "big") == 4096
    assert body[20] == 65
    assert body[21] == 0x04
    assert int.from_bytes(body[22:54], "big") == sender_point.x
    assert int.from_bytes(body[54:86], "big") == sender_point.y
    assert len(body) == 86 + len(b"hello") + 1 + 16


def test_encrypt_fits_3993_bytes_in_a_4096_byte_body(rfc_keys: SubscriptionKeys) -> None:
    body = encrypt(b"x" * 3993, rfc_keys)

    assert MAX_PLAINTEXT_LENGTH == 3993
    assert len(body) == 4096


def test_encrypt_refuses_3994_bytes_with_plaintext_too_large(rfc_keys: SubscriptionKeys) -> None:
    with pytest.raises(PlaintextTooLargeError, match="3993") as caught:
        encrypt(b"x" * 3994, rfc_keys)

    assert (caught.value.length, caught.value.limit) == (3994, 3993)


def test_encrypt_draws_a_fresh_salt_and_sender_key_per_message(rfc_keys: SubscriptionKeys) -> None:
    first, second = encrypt(b"same", rfc_keys), encrypt(b"same", rfc_keys)

    assert first[:16] != second[:16]
    assert first[21:86] != second[21:86]


def test_encrypt_leaves_its_inputs_unchanged(rfc_keys: SubscriptionKeys) -> None:
    plaintext, salt = bytearray(b"payload"), bytearray(os.urandom(16))
    before = (bytes(plaintext), bytes(salt), rfc_keys)

    encrypt(plaintext, rfc_keys, salt=salt)  # type: ignore[arg-type]

    assert (bytes(plaintext), bytes(salt), rfc_keys) == before


@pytest.mark.parametrize(
    ("p256dh", "auth"),
    [
        (RFC8291_UA_PUBLIC, RFC8291_AUTH),
        (RFC8291_UA_PUBLIC + "=", RFC8291_AUTH + "=="),
        (
            base64.b64encode(b64u(RFC8291_UA_PUBLIC)).decode(),
            base64.b64encode(b64u(RFC8291_AUTH)).decode(),
        ),
        (
            base64.b64encode(b64u(RFC8291_UA_PUBLIC)).decode().rstrip("="),
            base64.b64encode(b64u(RFC8291_AUTH)).decode().rstrip("="),
        ),
    ],
    ids=["url-unpadded", "url-padded", "standard-padded", "standard-unpadded"],
)
def test_subscription_keys_parse_accepts_every_base64_spelling(p256dh: str, auth: str) -> None:
    keys = SubscriptionKeys.parse(p256dh, auth)

    assert (keys.p256dh, keys.auth) == (b64u(RFC8291_UA_PUBLIC), b64u(RFC8291_AUTH))


def test_subscription_keys_parse_accepts_raw_bytes() -> None:
    keys = SubscriptionKeys.parse(b64u(RFC8291_UA_PUBLIC), b64u(RFC8291_AUTH))

    assert keys == SubscriptionKeys.parse(RFC8291_UA_PUBLIC, RFC8291_AUTH)


@pytest.mark.parametrize("length", [0, 33, 64, 66, 97])
def test_subscription_keys_parse_refuses_p256dh_of_wrong_length(length: int) -> None:
    with pytest.raises(InvalidKeyError, match="p256dh"):
        SubscriptionKeys.parse(b"\x04" + b"\x01" * (length - 1) if length else b"", b"a" * 16)


def test_subscription_keys_parse_refuses_point_off_the_curve() -> None:
    off_curve = b64u(RFC8291_UA_PUBLIC)[:-1] + bytes([b64u(RFC8291_UA_PUBLIC)[-1] ^ 1])

    with pytest.raises(InvalidKeyError, match="not a point on P-256"):
        SubscriptionKeys.parse(off_curve, b64u(RFC8291_AUTH))


def test_subscription_keys_parse_refuses_compressed_point() -> None:
    compressed = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    )

    with pytest.raises(InvalidKeyError, match="uncompressed"):
        SubscriptionKeys.parse(compressed, b64u(RFC8291_AUTH))


@pytest.mark.parametrize("length", [0, 12, 15, 17, 32])
def test_subscription_keys_parse_refuses_auth_of_wrong_length(length: int) -> None:
    with pytest.raises(InvalidKeyError, match="auth"):
        SubscriptionKeys.parse(RFC8291_UA_PUBLIC, b"a" * length)


@pytest.mark.parametrize("p256dh", ["not base64!", "BCVx$r7N", "é" * 87, 12345])
def test_subscription_keys_parse_refuses_what_is_not_base64(p256dh: object) -> None:
    with pytest.raises(InvalidKeyError):
        SubscriptionKeys.parse(p256dh, RFC8291_AUTH)  # type: ignore[arg-type]


def test_subscription_keys_repr_hides_the_auth_secret(rfc_keys: SubscriptionKeys) -> None:
    assert repr(b64u(RFC8291_AUTH)) not in repr(rfc_keys)


@settings(max_examples=100, deadline=None)
@given(plaintext=st.binary(max_size=MAX_PLAINTEXT_LENGTH))
def test_encrypt_round_trips_through_decrypt(plaintext: bytes) -> None:
    private_key = scalar_key(RFC8291_UA_PRIVATE)
    keys = SubscriptionKeys.parse(RFC8291_UA_PUBLIC, RFC8291_AUTH)

    assert decrypt(encrypt(plaintext, keys), private_key, keys.auth) == plaintext
