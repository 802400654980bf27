"""The Web Push stand-in's crypto: as the push service it accepts exactly the VAPID headers
RFC 8292 allows (`InvalidVapidError` for the rest); as the browser it opens RFC 8291 / RFC 8188
bodies exactly, and refuses every malformed or forged one with `DecryptionError`, whoever
wrote them."""

from __future__ import annotations

import base64
import json
import os

import http_ece
import jwt as pyjwt
import py_vapid
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto import VapidKey, sign_vapid_jwt, vapid_authorization
from tests.standins._webpush_crypto import (
    DecryptionError,
    InvalidVapidError,
    decrypt,
    decrypt_content,
    verify_vapid_authorization,
)
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
from tests.user_agent import UserAgent

AUDIENCE = "https://fcm.googleapis.com"
SUBJECT = "mailto:push@example.com"
NOW = 1_750_000_000.0
HOUR = 3600


@pytest.fixture(scope="module")
def key() -> VapidKey:
    return VapidKey.generate()


@pytest.fixture
def token(key: VapidKey) -> str:
    return sign_vapid_jwt(key, audience=AUDIENCE, subject=SUBJECT, issued_at=NOW)


def http_ece_body(user_agent: UserAgent, plaintext: bytes, **options: object) -> bytes:
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=user_agent.p256dh,
        auth_secret=user_agent.auth,
        **options,
    )


def test_verify_vapid_authorization_accepts_our_header(key: VapidKey, token: str) -> None:
    claims = verify_vapid_authorization(vapid_authorization(key, token), audience=AUDIENCE, now=NOW)

    assert (claims.public_key, claims.audience, claims.subject) == (
        key.public_key,
        AUDIENCE,
        SUBJECT,
    )
    assert claims.expires_at == int(NOW) + 12 * HOUR


def test_verify_vapid_authorization_refuses_another_audience(key: VapidKey, token: str) -> None:
    with pytest.raises(InvalidVapidError, match="aud"):
        verify_vapid_authorization(
            vapid_authorization(key, token), audience="https://web.push.apple.com", now=NOW
        )


def test_verify_vapid_authorization_refuses_an_expired_token(key: VapidKey, token: str) -> None:
    with pytest.raises(InvalidVapidError, match="exp"):
        verify_vapid_authorization(vapid_authorization(key, token), now=NOW + 12 * HOUR)


def test_verify_vapid_authorization_refuses_exp_beyond_24_hours(key: VapidKey) -> None:
    token = sign_vapid_jwt(
        key, audience=AUDIENCE, subject=SUBJECT, issued_at=NOW + 2 * HOUR, lifetime=23 * HOUR
    )

    with pytest.raises(InvalidVapidError, match="24 hours"):
        verify_vapid_authorization(vapid_authorization(key, token), now=NOW)


def test_verify_vapid_authorization_refuses_a_token_without_sub(key: VapidKey) -> None:
    token = pyjwt.encode(
        {"aud": AUDIENCE, "exp": int(NOW) + HOUR}, key.private_key, algorithm="ES256"
    )

    with pytest.raises(InvalidVapidError, match="sub"):
        verify_vapid_authorization(vapid_authorization(key, token), now=NOW)


def test_verify_vapid_authorization_refuses_a_token_signed_by_another_key(token: str) -> None:
    with pytest.raises(InvalidVapidError, match="does not verify"):
        verify_vapid_authorization(vapid_authorization(VapidKey.generate(), token), now=NOW)


def test_verify_vapid_authorization_refuses_a_changed_claim(key: VapidKey, token: str) -> None:
    header, _, signature = token.split(".")
    forged_claims = base64.urlsafe_b64encode(
        json.dumps({"aud": AUDIENCE, "exp": int(NOW) + 20 * HOUR, "sub": SUBJECT}).encode()
    ).rstrip(b"=")

    with pytest.raises(InvalidVapidError):
        verify_vapid_authorization(
            vapid_authorization(key, f"{header}.{forged_claims.decode()}.{signature}"), now=NOW
        )


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_verify_vapid_authorization_refuses_other_algorithms(key: VapidKey, algorithm: str) -> None:
    secret = "s" * 32 if algorithm == "HS256" else None
    token = pyjwt.encode(
        {"aud": AUDIENCE, "exp": int(NOW) + HOUR, "sub": SUBJECT}, secret, algorithm=algorithm
    )

    with pytest.raises(InvalidVapidError, match="ES256"):
        verify_vapid_authorization(vapid_authorization(key, token), now=NOW)


@settings(max_examples=300, deadline=None)
@given(
    header=st.one_of(
        st.text(),
        st.builds(lambda t, k: f"vapid t={t}, k={k}", st.text(), st.text()),
        st.builds(lambda a, b, c: f"vapid t={a}.{b}.{c}, k=BAAA", st.text(), st.text(), st.text()),
        st.none(),
        st.integers(),
    )
)
def test_verify_vapid_authorization_raises_only_invalid_vapid_error_for_garbage(
    header: object,
) -> None:
    with pytest.raises(InvalidVapidError):
        verify_vapid_authorization(header, now=NOW)  # type: ignore[arg-type]


def test_verify_vapid_authorization_accepts_a_py_vapid_header() -> None:
    theirs = py_vapid.Vapid02()
    theirs.generate_keys()
    header = theirs.sign({"aud": AUDIENCE, "sub": SUBJECT, "exp": int(NOW) + HOUR})["Authorization"]

    claims = verify_vapid_authorization(header, audience=AUDIENCE, now=NOW)

    assert claims.subject == SUBJECT


def test_verify_vapid_authorization_refuses_a_k_that_is_not_an_uncompressed_point(
    key: VapidKey, token: str
) -> None:
    point = base64.urlsafe_b64decode(key.public_key + "=")
    compressed = bytes([2 + point[-1] % 2]) + point[1:33]
    header = f"vapid t={token}, k={base64.urlsafe_b64encode(compressed).decode()}"

    with pytest.raises(InvalidVapidError, match="uncompressed"):
        verify_vapid_authorization(header, now=NOW)


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
