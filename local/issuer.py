"""The development JWT issuer: an ES256 key that lives only in memory, a token endpoint and
its JWKS, so the functions can verify tokens exactly as they verify a real issuer's."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["DEFAULT_TTL", "MAX_TTL", "DevIssuer", "TokenRequestError"]

DEFAULT_TTL = 3600
MAX_TTL = 86400
_FIELDS = {"sub", "scope", "aud", "ttl"}


class TokenRequestError(ValueError):
    """A `POST /_local/token` body that does not describe a token."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DevIssuer:
    """Mints ES256 access tokens for `issuer_url` (…/_local) and publishes the public key."""

    def __init__(self, issuer_url: str) -> None:
        self.issuer_url = issuer_url.rstrip("/")
        self.jwks_url = f"{self.issuer_url}/jwks.json"
        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        public = {
            "crv": "P-256",
            "kty": "EC",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        # RFC 7638 thumbprint: a kid that changes whenever the key does.
        thumbprint = hashlib.sha256(
            json.dumps(public, separators=(",", ":"), sort_keys=True).encode()
        )
        self.kid = _b64url(thumbprint.digest())
        self._jwk = {**public, "kid": self.kid, "alg": "ES256", "use": "sig"}

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    @property
    def trusted_issuers(self) -> str:
        """The PUSHGATE_TRUSTED_ISSUERS value that makes functions trust this issuer."""
        return json.dumps([{"issuer": self.issuer_url, "jwks_url": self.jwks_url}])

    def mint(
        self,
        sub: str,
        *,
        scope: str | Sequence[str] | None = None,
        aud: str | Sequence[str] | None = None,
        ttl: int = DEFAULT_TTL,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """An access token; `extra_claims` (tests only) are added last and may override."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer_url, "sub": sub}
        if aud is not None:
            claims["aud"] = aud if isinstance(aud, str) else list(aud)
        if scope is not None:
            claims["scope"] = scope if isinstance(scope, str) else " ".join(scope)
        claims.update({"iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex})
        claims.update(extra_claims or {})
        return jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self.kid})

    def token_response(self, body: bytes) -> dict[str, Any]:
        """Handles a token request body; raises TokenRequestError when it is not valid."""
        request = _parse_token_request(body)
        ttl = request.get("ttl", DEFAULT_TTL)
        token = self.mint(
            request["sub"], scope=request.get("scope"), aud=request.get("aud"), ttl=ttl
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


def _parse_token_request(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"null")
    except ValueError as exc:
        raise TokenRequestError("body must be JSON: {sub, scope?, aud?, ttl?}") from exc
    if not isinstance(request, dict):
        raise TokenRequestError("body must be a JSON object: {sub, scope?, aud?, ttl?}")
    unknown = sorted(set(request) - _FIELDS)
    if unknown:
        raise TokenRequestError(f"unknown field(s): {', '.join(unknown)}")
    sub = request.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRequestError("sub is required and must be a non-empty string")
    for name in ("scope", "aud"):
        value = request.get(name)
        if value is None:
            request.pop(name, None)
        elif not (
            isinstance(value, str)
            or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
        ):
            raise TokenRequestError(f"{name} must be a string or a non-empty list of strings")
    ttl = request.get("ttl", DEFAULT_TTL)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= MAX_TTL:
        raise TokenRequestError(f"ttl must be an integer number of seconds, 1..{MAX_TTL}")
    request["ttl"] = ttl
    return request
