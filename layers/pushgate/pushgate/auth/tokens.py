"""Bearer-token verification: trusted issuers only, asymmetric algorithms pinned per key, each
issuer's audience checked when it has one, and each token in a role its issuer is trusted for."""

from __future__ import annotations

from functools import cache
from typing import Any

import jwt
from jwt import PyJWK

from pushgate.auth.jwks import ALLOWED_ALGORITHMS, JwksCache, JwksError
from pushgate.auth.principal import Principal
from pushgate.errors import ForbiddenError, UnauthorizedError
from pushgate.settings import Settings, TrustedIssuer, get_settings

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
        issuer, key = self._issuer_and_key(token)
        claims = self._verified_claims(token, issuer, key)
        principal = Principal.from_claims(claims, issuer.issuer)
        if not issuer.trusted_for(principal.kind):
            raise ForbiddenError(
                f"the token's issuer is not trusted for {principal.kind} tokens",
                code="role_not_trusted",
            )
        return principal

    def _issuer_and_key(self, token: str) -> tuple[TrustedIssuer, PyJWK]:
        """The trusted issuer the token names and its key for the token's `kid`, read from
        the unverified token (nothing in it is believed until the signature verifies)."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _invalid("the token is malformed") from exc
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise _invalid("the token's algorithm is not accepted")
        iss = unverified.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
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
        return issuer, key

    def _verified_claims(self, token: str, issuer: TrustedIssuer, key: PyJWK) -> dict[str, Any]:
        audience = list(issuer.audience) if issuer.audience else None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=issuer.issuer,
                audience=audience,
                leeway=self._settings.jwt_leeway_seconds,
                options={
                    "require": ["exp", "iss", "sub", *(["aud"] if audience else [])],
                    "verify_aud": audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise _invalid("the token is not valid yet") from exc
        except jwt.InvalidSignatureError as exc:
            raise _invalid("the token's signature does not verify") from exc
        except jwt.InvalidAudienceError as exc:
            raise _invalid("the token's audience is not this gateway") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid(f"the token has no {exc.claim} claim") from exc
        except jwt.PyJWTError as exc:
            raise _invalid("the token is invalid") from exc
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _invalid("the token has no subject")
        return claims


@cache
def get_verifier() -> TokenVerifier:
    """The container's verifier (its JWKS cache lives as long as the container)."""
    return TokenVerifier(get_settings())
