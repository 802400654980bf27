"""ES256 (ECDSA over P-256 with SHA-256) for gateway-client signatures: PEM keys, verify, sign."""

from __future__ import annotations

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

# A key as pushgate holds one: the SubjectPublicKeyInfo PEM a gateway client's well-known
# document publishes, or a key object already loaded.
PublicKeyInput = ec.EllipticCurvePublicKey | str

_ES256 = ec.ECDSA(hashes.SHA256())


def load_public_key(key: PublicKeyInput) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from SubjectPublicKeyInfo PEM text, or a key object checked to be
    one.

    Raises `InvalidKeyError` for anything else, including other curves and key types.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _require_p256(key)
    if isinstance(key, str):
        return _from_pem(key.strip())
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


def _from_pem(text: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(text.encode("ascii", "replace"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidKeyError("PEM is not a readable SubjectPublicKeyInfo") from None
    return _require_p256(key)
