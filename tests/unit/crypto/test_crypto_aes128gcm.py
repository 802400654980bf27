"""RFC 8291 Web Push encryption and RFC 8188 aes128gcm: vectors, limits, validation, forgery."""

from __future__ import annotations

import base64
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto import (
    MAX_PLAINTEXT_LENGTH,
    DecryptionError,
    InvalidKeyError,
    PlaintextTooLargeError,
    SubscriptionKeys,
    decrypt,
    decrypt_content,
    encrypt,
    encrypt_content,
)


def b64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scalar_key(text: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64u(text), "big"), ec.SECP256R1())


# RFC 8291 Appendix A.
RFC8291_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC8291_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC8291_AS_PUBLIC = (
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
)
RFC8291_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC8291_UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
RFC8291_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC8291_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC8291_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6T"
    "lzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)
# RFC 8188 §3.1 and §3.2.
RFC8188_PLAINTEXT = b"I am the walrus"
RFC8188_SINGLE_IKM = "yqdlZ-tYemfogSmv7Ws5PQ"
RFC8188_SINGLE_BODY = "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"
RFC8188_MULTI_IKM = "BO3ZVPxUlnLORbVGMpbT1Q"
RFC8188_MULTI_BODY = (
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF"
    "1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA"
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


def test_decrypt_opens_rfc8291_appendix_a() -> None:
    plaintext = decrypt(b64u(RFC8291_BODY), scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH))

    assert plaintext == RFC8291_PLAINTEXT


def test_decrypt_content_opens_rfc8188_single_record_example() -> None:
    plaintext = decrypt_content(b64u(RFC8188_SINGLE_BODY), b64u(RFC8188_SINGLE_IKM))

    assert plaintext == RFC8188_PLAINTEXT


def test_decrypt_content_opens_rfc8188_multi_record_example() -> None:
    plaintext = decrypt_content(b64u(RFC8188_MULTI_BODY), b64u(RFC8188_MULTI_IKM))

    assert plaintext == RFC8188_PLAINTEXT


def test_encrypt_content_reproduces_rfc8188_single_record_example() -> None:
    body = encrypt_content(
        RFC8188_PLAINTEXT, b64u(RFC8188_SINGLE_IKM), salt=b64u(RFC8188_SINGLE_BODY)[:16]
    )

    assert body == b64u(RFC8188_SINGLE_BODY)


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


def test_encrypt_content_refuses_plaintext_beyond_one_record() -> None:
    with pytest.raises(PlaintextTooLargeError):
        encrypt_content(b"x" * 8, os.urandom(16), salt=os.urandom(16), record_size=24)


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


def test_decrypt_refuses_a_tampered_ciphertext() -> None:
    body = bytearray(b64u(RFC8291_BODY))
    body[-20] ^= 0x01

    with pytest.raises(DecryptionError, match="authenticate"):
        decrypt(bytes(body), scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH))


def test_decrypt_refuses_a_wrong_auth_secret() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b64u(RFC8291_BODY), scalar_key(RFC8291_UA_PRIVATE), os.urandom(16))


def test_decrypt_refuses_another_subscription_key() -> None:
    with pytest.raises(DecryptionError):
        decrypt(b64u(RFC8291_BODY), ec.generate_private_key(ec.SECP256R1()), b64u(RFC8291_AUTH))


@pytest.mark.parametrize("length", [0, 20, 21, 85, 86, 100, 102])
def test_decrypt_refuses_a_truncated_body(length: int) -> None:
    with pytest.raises(DecryptionError):
        decrypt(b64u(RFC8291_BODY)[:length], scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH))


def test_decrypt_refuses_a_keyid_that_is_not_a_public_key() -> None:
    body = bytearray(b64u(RFC8291_BODY))
    body[21] = 0x05

    with pytest.raises(DecryptionError, match="keyid"):
        decrypt(bytes(body), scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH))


def test_decrypt_refuses_an_auth_secret_of_wrong_length() -> None:
    with pytest.raises(InvalidKeyError):
        decrypt(b64u(RFC8291_BODY), scalar_key(RFC8291_UA_PRIVATE), b"short")


def test_decrypt_content_refuses_a_body_missing_its_last_record() -> None:
    body = b64u(RFC8188_MULTI_BODY)
    first_record_end = 21 + 2 + 25  # header with keyid "a1", then one 25-byte record

    with pytest.raises(DecryptionError, match="delimiter"):
        decrypt_content(body[:first_record_end], b64u(RFC8188_MULTI_IKM))


def test_decrypt_content_refuses_swapped_records(user_agent) -> None:
    body = http_ece.encrypt(
        b"a" * 40,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=user_agent.p256dh,
        auth_secret=user_agent.auth,
        rs=32,
    )
    header, records = body[:86], [body[86 + i : 86 + i + 32] for i in range(0, len(body) - 86, 32)]
    swapped = header + records[1] + records[0] + b"".join(records[2:])

    with pytest.raises(DecryptionError):
        decrypt(swapped, user_agent.private_key, user_agent.auth)


def test_decrypt_content_refuses_record_size_below_18() -> None:
    body = bytearray(b64u(RFC8188_SINGLE_BODY))
    body[16:20] = (17).to_bytes(4, "big")

    with pytest.raises(DecryptionError, match="18"):
        decrypt_content(bytes(body), b64u(RFC8188_SINGLE_IKM))


def test_decrypt_reads_multi_record_bodies(user_agent) -> None:
    plaintext = os.urandom(300)
    body = http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=user_agent.p256dh,
        auth_secret=user_agent.auth,
        rs=64,
    )

    assert len(body) > 86 + 64 * 4
    assert decrypt(body, user_agent.private_key, user_agent.auth) == plaintext


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=400))
def test_decrypt_raises_only_decryption_error_for_garbage(body: bytes) -> None:
    private_key, auth = scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH)

    with pytest.raises(DecryptionError):
        decrypt(body, private_key, auth)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), ikm=st.binary(min_size=1, max_size=32))
def test_decrypt_content_raises_only_decryption_error_for_garbage(body: bytes, ikm: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt_content(body, ikm)


@settings(max_examples=100, deadline=None)
@given(plaintext=st.binary(max_size=MAX_PLAINTEXT_LENGTH))
def test_encrypt_round_trips_through_decrypt(plaintext: bytes) -> None:
    private_key = scalar_key(RFC8291_UA_PRIVATE)
    keys = SubscriptionKeys.parse(RFC8291_UA_PUBLIC, RFC8291_AUTH)

    assert decrypt(encrypt(plaintext, keys), private_key, keys.auth) == plaintext
