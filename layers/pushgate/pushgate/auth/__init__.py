"""Authentication (bearer JWTs from trusted issuers) and authorisation of pushgate's callers."""

from __future__ import annotations

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


def current_principal(request: Request) -> Principal:
    """Route dependency: the authenticated caller (401 when there is none)."""
    headers = request.headers or {}
    authorization = headers.get("authorization") or headers.get("Authorization")
    return get_verifier().authenticate(authorization)
