"""Who is calling: an authenticated token's role, subject, issuer, scopes and audiences.

The three token-bearing roles are told apart by scope: `push:admin` is an operator;
`push:send` or `push:config` is a tenant backend whose `sub` is its app id; anything else is an
end user whose `sub` is the user id and whose `aud` names the apps the token is good for. What
each may do is `pushgate.policy`'s to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SCOPE_ADMIN = "push:admin"
SCOPE_SEND = "push:send"
SCOPE_CONFIG = "push:config"
SERVICE_SCOPES = frozenset({SCOPE_SEND, SCOPE_CONFIG})

PrincipalKind = Literal["user", "service", "admin"]  # the roles of settings.TrustedIssuer


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `subject` is a user id, an app id or an operator id."""

    kind: PrincipalKind
    subject: str
    issuer: str
    scopes: frozenset[str]
    audiences: tuple[str, ...] = ()

    @classmethod
    def from_claims(cls, claims: dict[str, object], issuer: str) -> Principal:
        scopes = _parse_scopes(claims)
        kind: PrincipalKind
        if SCOPE_ADMIN in scopes:
            kind = "admin"
        elif scopes & SERVICE_SCOPES:
            kind = "service"
        else:
            kind = "user"
        aud = claims.get("aud")
        audiences = (
            (aud,) if isinstance(aud, str) else tuple(a for a in aud or () if isinstance(a, str))
        )  # type: ignore[union-attr]
        return cls(kind, str(claims["sub"]), issuer, scopes, audiences)

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


def _parse_scopes(claims: dict[str, object]) -> frozenset[str]:
    scopes: set[str] = set()
    for claim in ("scope", "scp"):
        value = claims.get(claim)
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list):
            scopes.update(s for s in value if isinstance(s, str))
    return frozenset(scopes)
