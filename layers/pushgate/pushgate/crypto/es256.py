"""ES256 (ECDSA over P-256 with SHA-256) for gateway-client signatures: load keys, verify, sign."""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from pushgate.crypto._base64 import b64decode
from pushgate.crypto.canonical_json import canonicalize
from pushgate.crypto.exceptions import CanonicalJSONError, InvalidKeyError

# SEC 2 §2.4.2 / FIPS 186-4 D.1.2.3: the order n of the P-256 base point.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
COORDINATE_LENGTH = 32
# RFC 7518 §3.4: an ES256 JWS signature is R ‖ S, 32 octets each (what WebCrypto produces).
RAW_SIGNATURE_LENGTH = 2 * COORDINATE_LENGTH
# SEC 1 §2.3.3: 0x04 ‖ X ‖ Y.
UNCOMPRESSED_POINT_LENGTH = 1 + 2 * COORDINATE_LENGTH
UNCOMPRESSED_POINT_PREFIX = 0x04
# RFC 7518 §6.2.1: the JWK spelling of P-256.
JWK_KEY_TYPE = "EC"
JWK_CURVE = "P-256"

PublicKeyInput = ec.EllipticCurvePublicKey | str | bytes | Mapping[str, object]

_P256 = ec.SECP256R1()
_ES256 = ec.ECDSA(hashes.SHA256())
_PEM_MARKER = "-----BEGIN"


def load_public_key(key: PublicKeyInput) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM (SPKI), DER SPKI, a JWK (mapping or JSON text) or a raw
    65-byte uncompressed point; text forms other than PEM and JWK are base64 of any spelling.

    Raises `InvalidKeyError` for anything else, including other curves and key types.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _require_p256(key)
    if isinstance(key, Mapping):
        return _from_jwk(key)
    if isinstance(key, str):
        return _from_text(key.strip())
    if isinstance(key, bytes | bytearray):
        data = bytes(key)
        if data.lstrip().startswith(_PEM_MARKER.encode()):
            return _from_pem(data)
        return _from_binary(data)
    raise InvalidKeyError(f"unsupported public key input: {type(key).__name__}")


def verify_signature(public_key: PublicKeyInput, signature: str | bytes, message: bytes) -> bool:
    """Whether `signature` is a valid ES256 signature of `message` under `public_key`.

    `signature` is raw R ‖ S (64 bytes) or DER; as `str` it is base64 in any spelling.
    Never raises for a bad signature or message: every defect returns False. Raises
    `InvalidKeyError` only when `public_key` is not a usable P-256 key.
    """
    key = load_public_key(public_key)
    if not isinstance(message, bytes | bytearray | memoryview):
        return False
    for der in _der_candidates(signature):
        try:
            key.verify(der, message, _ES256)
        except InvalidSignature:
            continue
        return True
    return False


def verify_payload(
    public_key: PublicKeyInput, signature: str | bytes, payload: Mapping[str, object]
) -> bool:
    """Whether `signature` signs the RFC 8785 canonical JSON of `payload`.

    A payload that has no canonical form (NaN, non-string keys, ...) returns False.
    """
    key = load_public_key(public_key)
    if not isinstance(payload, Mapping):
        return False
    try:
        message = canonicalize(payload)
    except CanonicalJSONError:
        return False
    return verify_signature(key, signature, message)


def sign(private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """An ES256 signature of `message` as raw R ‖ S (64 bytes), the JWS/WebCrypto form."""
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise InvalidKeyError("ES256 signs with a P-256 private key only")
    r, s = decode_dss_signature(private_key.sign(message, _ES256))
    return r.to_bytes(COORDINATE_LENGTH, "big") + s.to_bytes(COORDINATE_LENGTH, "big")


def public_key_bytes(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed point (SEC 1 §2.3.3) of a P-256 public key."""
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _der_candidates(signature: object) -> list[bytes]:
    """The DER encodings `signature` may stand for, out-of-range scalars dropped."""
    if isinstance(signature, str):
        try:
            raw = b64decode(signature)
        except ValueError:
            return []
    elif isinstance(signature, bytes | bytearray | memoryview):
        raw = bytes(signature)
    else:
        return []
    candidates: list[bytes] = []
    if len(raw) == RAW_SIGNATURE_LENGTH:
        r = int.from_bytes(raw[:COORDINATE_LENGTH], "big")
        s = int.from_bytes(raw[COORDINATE_LENGTH:], "big")
        if _in_range(r, s):
            candidates.append(encode_dss_signature(r, s))
    # A 64-byte DER signature is rare but possible, so DER is tried whatever the length.
    try:
        r, s = decode_dss_signature(raw)
    except ValueError:
        return candidates
    if _in_range(r, s):
        candidates.append(raw)
    return candidates


def _in_range(r: int, s: int) -> bool:
    # FIPS 186-4 §6.4: both scalars lie in [1, n-1].
    return 0 < r < P256_ORDER and 0 < s < P256_ORDER


def _require_p256(key: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidKeyError(
            f"unsupported key type {type(key).__name__}: ES256 needs an EC P-256 public key"
        )
    if not isinstance(key.curve, ec.SECP256R1):
        raise InvalidKeyError(f"unsupported curve {key.curve.name}: ES256 needs P-256")
    return key


def _from_text(text: str) -> ec.EllipticCurvePublicKey:
    if text.startswith(_PEM_MARKER):
        return _from_pem(text.encode("ascii", "replace"))
    if text.startswith("{"):
        try:
            jwk = json.loads(text)
        except ValueError:
            raise InvalidKeyError("public key is not valid JWK JSON") from None
        if not isinstance(jwk, dict):
            raise InvalidKeyError("a JWK must be a JSON object")
        return _from_jwk(jwk)
    try:
        data = b64decode(text)
    except ValueError:
        raise InvalidKeyError("public key is neither PEM, JWK nor base64") from None
    return _from_binary(data)


def _from_pem(data: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidKeyError("PEM is not a readable SubjectPublicKeyInfo") from None
    return _require_p256(key)


def _from_binary(data: bytes) -> ec.EllipticCurvePublicKey:
    if len(data) == UNCOMPRESSED_POINT_LENGTH and data[0] == UNCOMPRESSED_POINT_PREFIX:
        return _from_point(data)
    if data[:1] == b"\x30":  # an ASN.1 SEQUENCE: DER SubjectPublicKeyInfo
        try:
            key = serialization.load_der_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidKeyError("DER is not a readable SubjectPublicKeyInfo") from None
        return _require_p256(key)
    raise InvalidKeyError("public key must be PEM, DER, JWK or a 65-byte uncompressed point")


def _from_point(point: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_P256, point)
    except ValueError:
        raise InvalidKeyError("public key is not a point on P-256") from None


def _from_jwk(jwk: Mapping[str, object]) -> ec.EllipticCurvePublicKey:
    key_type, curve = jwk.get("kty"), jwk.get("crv")
    if key_type != JWK_KEY_TYPE:
        raise InvalidKeyError(f"unsupported JWK key type {key_type!r}: ES256 needs EC")
    if curve != JWK_CURVE:
        raise InvalidKeyError(f"unsupported JWK curve {curve!r}: ES256 needs P-256")
    coordinates = []
    for name in ("x", "y"):
        value = jwk.get(name)
        try:
            coordinate = b64decode(value) if isinstance(value, str) else b""
        except ValueError:
            coordinate = b""
        if len(coordinate) != COORDINATE_LENGTH:
            raise InvalidKeyError(f"JWK {name} must be 32 bytes of base64url")
        coordinates.append(coordinate)
    return _from_point(bytes([UNCOMPRESSED_POINT_PREFIX]) + b"".join(coordinates))
