"""Authentication (bearer JWTs from trusted issuers) and authorisation of pushgate's callers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.request import Request

from pushgate.auth.principal import (
    SCOPE_ADMIN,
    SCOPE_CONFIG,
    SCOPE_SEND,
    Principal,
    require_admin,
    require_app_access,
    require_user,
)

if TYPE_CHECKING:
    from pushgate.auth.tokens import TokenVerifier, get_verifier

__all__ = [
    "SCOPE_ADMIN",
    "SCOPE_CONFIG",
    "SCOPE_SEND",
    "Principal",
    "TokenVerifier",
    "current_principal",
    "get_verifier",
    "require_admin",
    "require_app_access",
    "require_user",
]


def __getattr__(name: str) -> Any:
    # The token verifier (and PyJWT with it) loads on first use: the deliver and receipts
    # functions only need Principal, through the device registry.
    if name in ("TokenVerifier", "get_verifier"):
        from pushgate.auth import tokens

        return getattr(tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def current_principal(request: Request) -> Principal:
    """Route dependency: the authenticated caller (401 when there is none)."""
    from pushgate.auth.tokens import get_verifier

    headers = request.headers or {}
    authorization = headers.get("authorization") or headers.get("Authorization")
    return get_verifier().authenticate(authorization)
