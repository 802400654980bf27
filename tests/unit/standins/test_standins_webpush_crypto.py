"""The Web Push stand-in's browser: it opens RFC 8291 / RFC 8188 bodies exactly, and refuses
every malformed or forged one with `DecryptionError`, whoever wrote it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.standins._webpush_crypto import DecryptionError, decrypt, decrypt_content
from tests.unit.crypto.vectors import (
    RFC8188_MULTI_BODY,
    RFC8188_MULTI_IKM,
    RFC8188_PLAINTEXT,
    RFC8188_SINGLE_BODY,
    RFC8188_SINGLE_IKM,
    RFC8291_AUTH,
    RFC8291_BODY,
    RFC8291_PLAINTEXT,
    RFC8291_UA_PRIVATE,
    b64u,
    scalar_key,
)


@dataclass(frozen=True)
class UserAgent:
    private_key: ec.EllipticCurvePrivateKey
    p256dh: bytes
    auth: bytes


@pytest.fixture
def user_agent() -> UserAgent:
    private_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return UserAgent(private_key, p256dh, os.urandom(16))


def http_ece_body(user_agent: UserAgent, plaintext: bytes, **options: object) -> bytes:
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=user_agent.p256dh,
        auth_secret=user_agent.auth,
        **options,
    )


def test_decrypt_opens_rfc8291_appendix_a() -> None:
    plaintext = decrypt(b64u(RFC8291_BODY), scalar_key(RFC8291_UA_PRIVATE), b64u(RFC8291_AUTH))

    assert plaintext == RFC8291_PLAINTEXT


def test_decrypt_content_opens_rfc8188_single_record_example() -> None:
    plaintext = decrypt_content(b64u(RFC8188_SINGLE_BODY), b64u(RFC8188_SINGLE_IKM))

    assert plaintext == RFC8188_PLAINTEXT


def test_decrypt_content_opens_rfc8188_multi_record_example() -> None:
    plaintext = decrypt_content(b64u(RFC8188_MULTI_BODY), b64u(RFC8188_MULTI_IKM))

    assert plaintext == RFC8188_PLAINTEXT


@pytest.mark.parametrize("plaintext", [b"x", bytes(range(256)) * 15 + bytes(153)])
def test_decrypt_opens_what_http_ece_writes(user_agent: UserAgent, plaintext: bytes) -> None:
    body = http_ece_body(user_agent, plaintext)

    assert decrypt(body, user_agent.private_key, user_agent.auth) == plaintext


def test_decrypt_reads_multi_record_bodies(user_agent: UserAgent) -> None:
    plaintext = os.urandom(300)
    body = http_ece_body(user_agent, plaintext, rs=64)

    assert len(body) > 86 + 64 * 4
    assert decrypt(body, user_agent.private_key, user_agent.auth) == plaintext


def test_decrypt_refuses_http_ece_empty_body_without_a_record(user_agent: UserAgent) -> None:
    """http_ece (Python) writes an empty plaintext as a bare header. RFC 8188 §2 ends every
    body with a record whose delimiter is 2, so a bare header is a truncated body: refused."""
    body = http_ece_body(user_agent, b"")

    with pytest.raises(DecryptionError, match="no record"):
        decrypt(body, user_agent.private_key, user_agent.auth)


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
    with pytest.raises(ValueError, match="auth"):
        decrypt(b64u(RFC8291_BODY), scalar_key(RFC8291_UA_PRIVATE), b"short")


def test_decrypt_refuses_a_subscription_key_on_another_curve() -> None:
    with pytest.raises(ValueError, match="P-256"):
        decrypt(b64u(RFC8291_BODY), ec.generate_private_key(ec.SECP384R1()), b64u(RFC8291_AUTH))


def test_decrypt_content_refuses_a_body_missing_its_last_record() -> None:
    body = b64u(RFC8188_MULTI_BODY)
    first_record_end = 21 + 2 + 25  # header with keyid "a1", then one 25-byte record

    with pytest.raises(DecryptionError, match="delimiter"):
        decrypt_content(body[:first_record_end], b64u(RFC8188_MULTI_IKM))


def test_decrypt_content_refuses_swapped_records(user_agent: UserAgent) -> None:
    body = http_ece_body(user_agent, b"a" * 40, rs=32)
    header, records = body[:86], [body[86 + i : 86 + i + 32] for i in range(0, len(body) - 86, 32)]
    swapped = header + records[1] + records[0] + b"".join(records[2:])

    with pytest.raises(DecryptionError):
        decrypt(swapped, user_agent.private_key, user_agent.auth)


def test_decrypt_content_refuses_record_size_below_18() -> None:
    body = bytearray(b64u(RFC8188_SINGLE_BODY))
    body[16:20] = (17).to_bytes(4, "big")

    with pytest.raises(DecryptionError, match="18"):
        decrypt_content(bytes(body), b64u(RFC8188_SINGLE_IKM))


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
