"""The development JWT issuers: ES256 keys that live only in memory, a token endpoint and
their JWKS, so the functions verify tokens exactly as they verify a real issuer's.

The local stack trusts two of them, so cross-issuer attacks run end to end: the default one
(`/_local`, trusted for every role) and a second one (`/_local/second`, trusted for the
`user` and `service` roles only), picked with `"issuer": "second"` in a token request."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["ALL_ROLES", "DEFAULT_TTL", "MAX_TTL", "DevIssuer", "DevIssuers", "TokenRequestError"]

DEFAULT_TTL = 3600
MAX_TTL = 86400
ALL_ROLES = ("user", "service", "admin")
SECOND = "second"
_FIELDS = {"sub", "scope", "aud", "ttl", "issuer"}


class TokenRequestError(ValueError):
    """A `POST /_local/token` body that does not describe a token."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DevIssuer:
    """Mints ES256 access tokens for `issuer_url` (…/_local) and publishes the public key."""

    def __init__(self, issuer_url: str, roles: Sequence[str] = ALL_ROLES) -> None:
        self.issuer_url = issuer_url.rstrip("/")
        self.jwks_url = f"{self.issuer_url}/jwks.json"
        self.roles = tuple(roles)
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
    def trusted_issuer(self) -> dict[str, Any]:
        """This issuer's entry in PUSHGATE_TRUSTED_ISSUERS."""
        return {"issuer": self.issuer_url, "jwks_url": self.jwks_url, "roles": list(self.roles)}

    @property
    def trusted_issuers(self) -> str:
        """The PUSHGATE_TRUSTED_ISSUERS value that makes functions trust this issuer alone."""
        return json.dumps([self.trusted_issuer])

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
        if "issuer" in request:
            raise TokenRequestError("this issuer takes no issuer field")
        return self._respond(request)

    def _respond(self, request: dict[str, Any]) -> dict[str, Any]:
        ttl = request.get("ttl", DEFAULT_TTL)
        token = self.mint(
            request["sub"], scope=request.get("scope"), aud=request.get("aud"), ttl=ttl
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


class DevIssuers:
    """The local stack's two issuers under one base URL (`…/_local`): the default one, and
    the second one at `…/_local/second`."""

    def __init__(self, base_url: str) -> None:
        self.default = DevIssuer(base_url, ALL_ROLES)
        self.second = DevIssuer(f"{base_url.rstrip('/')}/{SECOND}", ("user", "service"))

    def __iter__(self) -> Iterator[DevIssuer]:
        return iter((self.default, self.second))

    def named(self, name: str | None) -> DevIssuer:
        """The issuer a token request names (`issuer`: absent or "default", or "second")."""
        if name in (None, "default"):
            return self.default
        if name == SECOND:
            return self.second
        raise TokenRequestError('issuer must be "default" or "second"')

    @property
    def trusted_issuers(self) -> str:
        """The PUSHGATE_TRUSTED_ISSUERS value that makes functions trust both."""
        return json.dumps([issuer.trusted_issuer for issuer in self])

    def token_response(self, body: bytes) -> dict[str, Any]:
        """A token from the issuer the body names; raises TokenRequestError."""
        request = _parse_token_request(body)
        return self.named(request.pop("issuer", None))._respond(request)


def _parse_token_request(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"null")
    except ValueError as exc:
        raise TokenRequestError("body must be JSON: {sub, scope?, aud?, ttl?, issuer?}") from exc
    if not isinstance(request, dict):
        raise TokenRequestError("body must be a JSON object: {sub, scope?, aud?, ttl?, issuer?}")
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
    if not isinstance(request.get("issuer", ""), str):
        raise TokenRequestError('issuer must be "default" or "second"')
    return request
