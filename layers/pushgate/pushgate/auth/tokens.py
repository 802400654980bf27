"""Bearer-token verification: trusted issuers only, asymmetric algorithms pinned per key."""

from __future__ import annotations

from functools import cache

import jwt

from pushgate.auth.jwks import ALLOWED_ALGORITHMS, JwksCache, JwksError
from pushgate.auth.principal import Principal
from pushgate.errors import UnauthorizedError
from pushgate.settings import Settings, get_settings

_MAX_TOKEN_LENGTH = 8192


def _invalid(message: str) -> UnauthorizedError:
    return UnauthorizedError(message, code="invalid_token")


class TokenVerifier:
    """Turns an `Authorization` header into a `Principal`, or raises `UnauthorizedError`."""

    def __init__(self, settings: Settings, jwks: JwksCache | None = None) -> None:
        self._settings = settings
        self._issuers = {issuer.issuer: issuer for issuer in settings.trusted_issuers}
        # JWKS URLs are operator configuration; plain http only for the local stack's issuer.
        self._jwks = jwks or JwksCache(
            allow_http=settings.allow_private_urls or settings.local_mode
        )

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise UnauthorizedError("an Authorization: Bearer token is required")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise UnauthorizedError("use the Bearer authorization scheme")
        if len(token) > _MAX_TOKEN_LENGTH:
            raise _invalid("the token is too long")
        return self.verify(token)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _invalid("the token is malformed") from exc
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise _invalid("the token's algorithm is not accepted")
        issuer = self._issuers.get(unverified.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise _invalid("the token's issuer is not trusted")
        kid = header.get("kid")
        try:
            key = self._jwks.key(issuer, kid if isinstance(kid, str) else None)
        except JwksError as exc:
            raise _invalid("the issuer's keys are unavailable") from exc
        if key is None:
            raise _invalid("the token's signing key is unknown")
        if key.algorithm_name != algorithm:
            raise _invalid("the token's algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=issuer.issuer,
                leeway=self._settings.jwt_leeway_seconds,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise _invalid("the token is not valid yet") from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid("the token's signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise _invalid("the token is invalid") from exc
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _invalid("the token has no subject")
        return Principal.from_claims(claims, issuer.issuer)


@cache
def get_verifier() -> TokenVerifier:
    """The container's verifier (its JWKS cache lives as long as the container)."""
    return TokenVerifier(get_settings())
