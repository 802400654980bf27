"""VAPID (RFC 8292): app server keys, the signed `vapid` header and its cache.

Only the signing side: checking a header is the push service's job (the tests' stand-in
does it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pushgate import clock
from pushgate.crypto import es256
from pushgate.crypto._base64 import b64decode, b64url_encode
from pushgate.crypto.exceptions import InvalidKeyError, InvalidVapidClaimError

# RFC 8292 §2: a JWS signed with ES256.
JWT_HEADER = b'{"typ":"JWT","alg":"ES256"}'
SCHEME = "vapid"
# RFC 8292 §2: "exp" MUST NOT be more than 24 hours from the time of the request.
MAX_LIFETIME = 24 * 3600
# Push services see a fresh token every ~11 h: signed for 12 h, replaced an hour before expiry.
DEFAULT_LIFETIME = 12 * 3600
DEFAULT_REFRESH_MARGIN = 3600
PRIVATE_KEY_LENGTH = 32
# RFC 8292 §2.1: the contact is a mailto: or https: URI.
_SUBJECT = re.compile(r"(?i)(mailto:|https://)\S+")
_AUDIENCE = re.compile(r"(?i)https?://[^/?#@\s]+")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_P256 = ec.SECP256R1()
_ENCODED_JWT_HEADER = b64url_encode(JWT_HEADER)


@dataclass(frozen=True, slots=True)
class VapidKey:
    """An application server's P-256 keypair with its public key exported once."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_key: str = field(init=False)  # base64url (no padding) of the 65-byte point

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            self.private_key.curve, ec.SECP256R1
        ):
            raise InvalidKeyError("a VAPID key is a P-256 private key")
        point = es256.public_key_bytes(self.private_key.public_key())
        object.__setattr__(self, "public_key", b64url_encode(point))

    @classmethod
    def generate(cls) -> VapidKey:
        """A fresh keypair (provisioned when an app is first enabled)."""
        return cls(ec.generate_private_key(_P256))

    @classmethod
    def load(cls, data: str | bytes) -> VapidKey:
        """Import a private key. `str`: PEM (PKCS#8 or SEC 1), or base64 in any spelling of the
        32-byte scalar (what `export_private_key` writes) or of DER. `bytes`: PEM, the raw
        32-byte scalar, or DER.

        Raises `InvalidKeyError`."""
        if isinstance(data, str):
            text = data.strip()
            if text.startswith("-----BEGIN"):
                return cls(_load_private(serialization.load_pem_private_key, text.encode()))
            try:
                data = b64decode(text)
            except ValueError:
                raise InvalidKeyError("VAPID private key is neither PEM nor base64") from None
        elif isinstance(data, bytes | bytearray):
            data = bytes(data)
            if data.lstrip().startswith(b"-----BEGIN"):
                return cls(_load_private(serialization.load_pem_private_key, data))
        else:
            raise InvalidKeyError("a VAPID private key is str or bytes")
        if len(data) != PRIVATE_KEY_LENGTH:
            return cls(_load_private(serialization.load_der_private_key, data))
        try:
            return cls(ec.derive_private_key(int.from_bytes(data, "big"), _P256))
        except ValueError:
            raise InvalidKeyError("VAPID private key is not a P-256 scalar") from None

    def export_private_key(self) -> str:
        """The 32-byte private scalar as base64url without padding, for encrypted storage."""
        scalar = self.private_key.private_numbers().private_value
        return b64url_encode(scalar.to_bytes(PRIVATE_KEY_LENGTH, "big"))


def vapid_audience(endpoint: str) -> str:
    """The origin of a push endpoint, the JWT's `aud` (RFC 8292 §2): scheme://host[:port],
    lowercased, default port dropped. Raises `InvalidVapidClaimError`."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except (ValueError, TypeError, AttributeError):
        raise InvalidVapidClaimError("push endpoint is not a URL") from None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        raise InvalidVapidClaimError("push endpoint must be an http(s) URL with a host")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def sign_vapid_jwt(
    key: VapidKey,
    *,
    audience: str,
    subject: str,
    issued_at: float,
    lifetime: int = DEFAULT_LIFETIME,
) -> str:
    """The compact ES256 JWT `{"aud", "exp", "sub"}` with exp = issued_at + lifetime.

    Raises `InvalidVapidClaimError` for an audience that is not an origin, a subject that is
    not a mailto:/https: URI, or a lifetime outside (0, 24 h].
    """
    if not _AUDIENCE.fullmatch(audience):
        raise InvalidVapidClaimError("aud must be an origin: scheme://host[:port]")
    if not _SUBJECT.fullmatch(subject):
        raise InvalidVapidClaimError("sub must be a mailto: or https: URI")
    if not 0 < lifetime <= MAX_LIFETIME:
        raise InvalidVapidClaimError("a VAPID token lives at most 24 hours")
    claims = {"aud": audience, "exp": int(issued_at) + lifetime, "sub": subject}
    encoded_claims = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{_ENCODED_JWT_HEADER}.{encoded_claims}"
    signature = es256.sign(key.private_key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def vapid_authorization(key: VapidKey, jwt: str) -> str:
    """The RFC 8292 §3 header value: `vapid t=<jwt>, k=<public key>`."""
    return f"{SCHEME} t={jwt}, k={key.public_key}"


class VapidHeaderCache:
    """Signed `Authorization` values per (key, audience, subject), reused until they are
    within `refresh_margin` of expiry: one signature per push service per app per ~11 h.

    Safe to share between threads (a race signs twice, never returns a stale header).
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] = clock.epoch,
        lifetime: int = DEFAULT_LIFETIME,
        refresh_margin: int = DEFAULT_REFRESH_MARGIN,
        max_entries: int = 4096,
    ) -> None:
        if not 0 <= refresh_margin < lifetime <= MAX_LIFETIME:
            raise ValueError("need 0 <= refresh_margin < lifetime <= 24 h")
        self._now = now
        self._lifetime = lifetime
        self._refresh_margin = refresh_margin
        self._max_entries = max_entries
        self._entries: dict[tuple[str, str, str], tuple[str, float]] = {}

    def authorization(self, key: VapidKey, audience: str, subject: str) -> str:
        """The header value for `audience` (see `vapid_audience`), signed only when needed."""
        entry_key = (key.public_key, audience, subject)
        now = self._now()
        entry = self._entries.get(entry_key)
        if entry is not None and now < entry[1]:
            return entry[0]
        jwt = sign_vapid_jwt(
            key, audience=audience, subject=subject, issued_at=now, lifetime=self._lifetime
        )
        if len(self._entries) >= self._max_entries:
            self._entries.pop(next(iter(self._entries)), None)  # the oldest entry
        refresh_at = int(now) + self._lifetime - self._refresh_margin
        header = vapid_authorization(key, jwt)
        self._entries[entry_key] = (header, refresh_at)
        return header

    def clear(self) -> None:
        self._entries.clear()


def _load_private(
    loader: Callable[..., object],
    data: bytes,
) -> ec.EllipticCurvePrivateKey:
    try:
        key = loader(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidKeyError("VAPID private key is not a readable PEM/DER key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidKeyError("a VAPID key is a P-256 private key")
    return key
