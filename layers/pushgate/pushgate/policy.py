"""Who may do what: the one authorisation policy, called the same way from every route.

A caller is a `Principal` from a trusted issuer, in a role the issuer is trusted for (checked
when the token is verified). On top of that, each app says whom it trusts:

- its **issuer**, the one it was created with: its service tokens act for the app, as do
  those of the **service issuers** an operator lists on the app;
- its **user issuer**, whose users its `user_id`s name (default: its issuer): only that
  issuer's user tokens register devices with the app, and sends reach only their devices.
  A user is `(issuer, sub)` everywhere; a gateway instance is its own users' issuer
  (`takos-instance:<name>`).

Apps older than these fields are treated as created by the deployment's first trusted issuer.
Refusals are 403s with a code naming the reason; routes that must not confirm that something
exists turn them into 404s themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from pushgate.apps.models import instance_owner, is_instance_tenant
from pushgate.auth import SCOPE_SEND, Principal
from pushgate.errors import ForbiddenError, PushDisabledError
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage.apps import App

_TRUST_ATTRIBUTES = [
    "app_id",
    "enabled",
    "suspended",
    "issuer",
    "service_issuers",
    "user_issuer",
    "owner_instance",
]


@dataclass(frozen=True, slots=True)
class AppTrust:
    """Whom an app trusts, and whether it is taking work at all."""

    app_id: str
    issuer: str | None
    service_issuers: frozenset[str]
    user_issuer: str | None
    enabled: bool
    suspended: bool

    def accepts_service_issuer(self, issuer: str) -> bool:
        return issuer == self.issuer or issuer in self.service_issuers

    def require_active(self) -> None:
        """403 unless the app takes registrations and sends."""
        if self.suspended:
            raise ForbiddenError(
                f"app {self.app_id} is suspended by the operator", code="app_suspended"
            )
        if not self.enabled:
            raise PushDisabledError(f"push is not enabled for app {self.app_id}")


def trust_of(record: App) -> AppTrust:
    """The trust an app record expresses, with the defaults applied."""
    issuer = record.issuer
    if issuer is None and not is_instance_tenant(record.app_id):
        issuer = get_settings().legacy_app_issuer
    user_issuer = record.user_issuer
    if user_issuer is None:
        if is_instance_tenant(record.app_id):
            owner = record.owner_instance
            user_issuer = instance_owner(owner) if owner else None
        else:
            user_issuer = issuer
    return AppTrust(
        app_id=record.app_id,
        issuer=issuer,
        service_issuers=frozenset(record.service_issuers),
        user_issuer=user_issuer,
        enabled=record.enabled,
        suspended=record.suspended,
    )


def load_trust(app_id: str) -> AppTrust | None:
    """The app's trust, or None when there is no such app."""
    app = apps.get(app_id, fields=_TRUST_ATTRIBUTES)
    return trust_of(app) if app is not None else None


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ForbiddenError("this operation needs an admin token", code="insufficient_scope")


def require_user(principal: Principal) -> None:
    if principal.kind != "user":
        raise ForbiddenError("this operation needs an end-user token")


def require_app_access(
    principal: Principal, app_id: str, scope: str, trust: AppTrust | None = None
) -> AppTrust | None:
    """Admins act on any app; a service token only on its own app (`sub` = app id), with
    `scope`, and from an issuer the app trusts for service tokens. Gateway instances' apps
    are reached through the takos protocol only. Returns the app's trust (read when not
    given; None for admins, and when the app does not exist yet)."""
    if principal.is_admin:
        return trust
    if principal.kind != "service":
        raise ForbiddenError("this operation needs an admin or the app's service token")
    if scope not in principal.scopes:
        raise ForbiddenError(f"the token lacks the {scope} scope", code="insufficient_scope")
    if principal.subject != app_id:
        raise ForbiddenError("a service token may only act on its own app")
    if is_instance_tenant(app_id):
        raise ForbiddenError("a gateway instance's app is reached through the takos protocol")
    trust = trust or load_trust(app_id)
    if trust is not None and not trust.accepts_service_issuer(principal.issuer):
        raise ForbiddenError(
            "this app does not accept service tokens from the token's issuer",
            code="issuer_not_trusted",
        )
    return trust


def require_app_user(principal: Principal, app_id: str, *, active: bool = True) -> AppTrust:
    """An end user acting on an app: their token names the app in `aud`, its issuer is the
    app's user issuer, and (unless `active=False`, for what a user may still do with a
    stopped app: look, remove) the app takes registrations. Returns the app's trust."""
    require_user(principal)
    if app_id not in principal.audiences:
        raise ForbiddenError("the token was not issued for this app", code="wrong_audience")
    trust = load_trust(app_id)
    if trust is None:
        raise PushDisabledError(f"push is not enabled for app {app_id}")
    if principal.issuer != trust.user_issuer:
        raise ForbiddenError(
            "this app's users are named by another issuer than the token's",
            code="wrong_issuer",
        )
    if active:
        trust.require_active()
    return trust


def may_manage_device(
    principal: Principal, *, app_id: str, user_id: str, owner_issuer: str
) -> bool:
    """The owning user (same issuer, token for the app), the owning app's service token with
    push:send, or an admin."""
    if principal.is_admin:
        return True
    if principal.kind == "service":
        try:
            require_app_access(principal, app_id, SCOPE_SEND)
        except ForbiddenError:
            return False
        return True
    return (
        principal.kind == "user"
        and principal.subject == user_id
        and principal.issuer == owner_issuer
        and app_id in principal.audiences
    )
