"""ES256 for gateway clients: PEM keys (what well-known documents publish), every signature
form, and clean failure for the rest."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto import (
    InvalidKeyError,
    canonicalize,
    load_public_key,
    sign,
    verify_payload,
    verify_signature,
)
from pushgate.crypto.es256 import P256_ORDER

MESSAGE = b'{"action":"register","nonce":"n-1"}'


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_of(key: object) -> str:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def raw_signature(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def public_key(private_key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePublicKey:
    return private_key.public_key()


@pytest.fixture(scope="module")
def der_signature(private_key: ec.EllipticCurvePrivateKey) -> bytes:
    return private_key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("form", ["pem", "pem-with-whitespace", "key"])
def test_load_public_key_reads_pem_and_key_objects(
    public_key: ec.EllipticCurvePublicKey, form: str
) -> None:
    forms: dict[str, object] = {
        "pem": pem_of(public_key),
        "pem-with-whitespace": "\n  " + pem_of(public_key) + "\n",
        "key": public_key,
    }

    loaded = load_public_key(forms[form])  # type: ignore[arg-type]

    assert loaded.public_numbers() == public_key.public_numbers()


@pytest.mark.parametrize(
    "form", ["pem-bytes", "der", "der-base64", "jwk", "jwk-json", "point", "point-base64"]
)
def test_load_public_key_refuses_every_form_but_pem(
    public_key: ec.EllipticCurvePublicKey, form: str
) -> None:
    """Well-known documents carry PEM only (`gateway.wellknown`): other encodings of the same
    key are refused rather than read, so there is one format to get right."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    point = public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    numbers = public_key.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64u(numbers.x.to_bytes(32, "big")),
        "y": b64u(numbers.y.to_bytes(32, "big")),
    }
    forms: dict[str, object] = {
        "pem-bytes": pem_of(public_key).encode(),
        "der": der,
        "der-base64": base64.b64encode(der).decode(),
        "jwk": jwk,
        "jwk-json": json.dumps(jwk),
        "point": point,
        "point-base64": b64u(point),
    }

    with pytest.raises(InvalidKeyError):
        load_public_key(forms[form])  # type: ignore[arg-type]


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP256K1()], ids=["P-384", "secp256k1"])
@pytest.mark.parametrize("form", ["pem", "key"])
def test_load_public_key_refuses_other_curves(curve: ec.EllipticCurve, form: str) -> None:
    other = ec.generate_private_key(curve).public_key()
    key = pem_of(other) if form == "pem" else other

    with pytest.raises(InvalidKeyError, match=r"curve .*P-256"):
        load_public_key(key)


@pytest.mark.parametrize(
    "key",
    [
        pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()),
        pem_of(ed25519.Ed25519PrivateKey.generate().public_key()),
    ],
    ids=["rsa-pem", "ed25519-pem"],
)
def test_load_public_key_refuses_other_key_types(key: object) -> None:
    with pytest.raises(InvalidKeyError, match="key type"):
        load_public_key(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not a key",
        "{",
        "[1, 2]",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        b"",
        b"\x04" + bytes(64),
        b"\x30\x03\x02\x01\x01",
        {"kty": "EC", "crv": "P-256", "x": "AAAA"},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": 2},
        None,
        42,
    ],
)
def test_load_public_key_refuses_garbage_with_invalid_key_error(key: object) -> None:
    with pytest.raises(InvalidKeyError):
        load_public_key(key)  # type: ignore[arg-type]


def test_verify_signature_accepts_der_from_cryptography(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes
) -> None:
    assert verify_signature(public_key, der_signature, MESSAGE) is True


def test_verify_signature_accepts_der_converted_to_raw(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes
) -> None:
    assert verify_signature(public_key, raw_signature(der_signature), MESSAGE) is True


def test_verify_signature_accepts_its_own_raw_signatures(
    private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey
) -> None:
    signature = sign(private_key, MESSAGE)

    assert len(signature) == 64
    assert verify_signature(public_key, signature, MESSAGE) is True


@pytest.mark.parametrize(
    "encode",
    [
        lambda raw: base64.b64encode(raw).decode(),
        lambda raw: base64.b64encode(raw).decode().rstrip("="),
        lambda raw: base64.urlsafe_b64encode(raw).decode(),
        lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ],
    ids=["standard-padded", "standard-unpadded", "url-padded", "url-unpadded"],
)
@pytest.mark.parametrize("encoding", ["raw", "der"])
def test_verify_signature_accepts_every_base64_spelling(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes, encode, encoding: str
) -> None:
    signature = raw_signature(der_signature) if encoding == "raw" else der_signature

    assert verify_signature(public_key, encode(signature), MESSAGE) is True


def test_verify_signature_rejects_a_tampered_message(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes
) -> None:
    assert verify_signature(public_key, der_signature, MESSAGE.replace(b"n-1", b"n-2")) is False


def test_verify_signature_rejects_another_key(der_signature: bytes) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()

    assert verify_signature(other, der_signature, MESSAGE) is False


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:63],
        lambda raw: raw[:32],
        lambda raw: raw + b"\x00",
        lambda raw: b"\x00" + raw,
        lambda raw: raw[32:] + raw[:32],
        lambda raw: b"",
    ],
    ids=["one-short", "half", "trailing-zero", "leading-zero", "swapped-r-s", "empty"],
)
def test_verify_signature_rejects_truncated_or_padded_signatures(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes, mangle
) -> None:
    signature = mangle(raw_signature(der_signature))

    assert verify_signature(public_key, signature, MESSAGE) is False
    assert verify_signature(public_key, b64u(signature), MESSAGE) is False


def test_verify_signature_rejects_der_with_trailing_bytes(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes
) -> None:
    assert verify_signature(public_key, der_signature + b"\x00", MESSAGE) is False


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (0, 0), (P256_ORDER, 1), (1, P256_ORDER), (P256_ORDER + 1, P256_ORDER + 1)],
    ids=["r=0", "s=0", "both-0", "r=n", "s=n", "both-above-n"],
)
@pytest.mark.parametrize("encoding", ["raw", "der"])
def test_verify_signature_rejects_scalars_outside_1_to_n(
    public_key: ec.EllipticCurvePublicKey, r: int, s: int, encoding: str
) -> None:
    signature = (
        r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if encoding == "raw"
        else encode_dss_signature(r, s)
    )

    assert verify_signature(public_key, signature, MESSAGE) is False


@pytest.mark.parametrize(
    "signature", ["", "!!!!", "abc", "a===", "é" * 10, "=" * 4, None, 42, ["x"]]
)
def test_verify_signature_rejects_what_is_not_a_signature(
    public_key: ec.EllipticCurvePublicKey, signature: object
) -> None:
    assert verify_signature(public_key, signature, MESSAGE) is False  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    signature=st.one_of(
        st.text(), st.binary(), st.binary(min_size=64, max_size=64), st.none(), st.integers()
    ),
    message=st.one_of(st.binary(), st.text(), st.none()),
)
def test_verify_signature_returns_false_for_any_garbage(signature: object, message: object) -> None:
    key = ec.derive_private_key(7, ec.SECP256R1()).public_key()

    assert verify_signature(key, signature, message) is False  # type: ignore[arg-type]


def test_verify_signature_raises_invalid_key_error_for_an_unusable_key(
    der_signature: bytes,
) -> None:
    with pytest.raises(InvalidKeyError):
        verify_signature("not a key", der_signature, MESSAGE)


def test_verify_payload_accepts_a_signature_over_canonical_json(
    private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey
) -> None:
    payload = {"nonce": "n-1", "action": "register", "issuedAt": 1_700_000_000, "token": "é"}
    signature = sign(private_key, canonicalize(payload))

    assert (
        verify_payload(public_key, b64u(signature), dict(reversed(list(payload.items())))) is True
    )


def test_verify_payload_rejects_a_changed_payload(
    private_key: ec.EllipticCurvePrivateKey, public_key: ec.EllipticCurvePublicKey
) -> None:
    signature = sign(private_key, canonicalize({"action": "register", "userId": "u-1"}))

    assert verify_payload(public_key, signature, {"action": "register", "userId": "u-2"}) is False


@pytest.mark.parametrize(
    "payload", [{"n": float("nan")}, {"s": "\ud800"}, ["not", "a", "mapping"], None]
)
def test_verify_payload_returns_false_for_a_payload_without_canonical_form(
    public_key: ec.EllipticCurvePublicKey, der_signature: bytes, payload: object
) -> None:
    assert verify_payload(public_key, der_signature, payload) is False  # type: ignore[arg-type]


def test_sign_refuses_a_key_on_another_curve() -> None:
    with pytest.raises(InvalidKeyError):
        sign(ec.generate_private_key(ec.SECP384R1()), MESSAGE)
