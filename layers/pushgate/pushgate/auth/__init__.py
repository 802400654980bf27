"""Authentication: bearer JWTs from trusted issuers, each in the roles it is trusted for.
(Authorisation is `pushgate.policy`.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pushgate.auth.principal import (
    SCOPE_ADMIN,
    SCOPE_CONFIG,
    SCOPE_SEND,
    Principal,
)

if TYPE_CHECKING:
    from pushgate.auth.tokens import TokenVerifier, get_verifier

__all__ = [
    "SCOPE_ADMIN",
    "SCOPE_CONFIG",
    "SCOPE_SEND",
    "Principal",
    "TokenVerifier",
    "get_verifier",
]


def __getattr__(name: str) -> Any:
    # The token verifier (and PyJWT with it) loads on first use: the deliver and receipts
    # functions only need Principal, through the device registry. The HTTP functions get the
    # caller from `pushgate.params.current_principal`.
    if name in ("TokenVerifier", "get_verifier"):
        from pushgate.auth import tokens

        return getattr(tokens, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
