"""Per-app configuration logic: create, update, provision secrets on first enable, read."""

from __future__ import annotations

from pushgate import clock
from pushgate.apps import secrets
from pushgate.apps.models import (
    ADMIN_ONLY_FIELDS,
    INSTANCE_TENANT_PREFIX,
    AppConfigPatchRequest,
    AppConfigResponse,
    WebhookSecretRotationResponse,
    is_instance_tenant,
)
from pushgate.apps.quota import max_daily_quota
from pushgate.audit import record_change
from pushgate.auth import SCOPE_CONFIG, Principal
from pushgate.crypto import VapidKey
from pushgate.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from pushgate.managed_ntfy import removals
from pushgate.policy import require_app_access, trust_of
from pushgate.providers import InvalidServiceAccountError, ServiceAccount
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage.apps import App, AppChange, AppExpectation
from pushgate.storage.base import WriteConflictError
from pushgate.storage.counters import daily_quota_key, read_count
from pushgate.urls import check_outbound_url

_PROVISIONING_ATTEMPTS = 3


def load_app(app_id: str) -> App:
    app = apps.get(app_id)
    if app is None:
        raise NotFoundError(f"app {app_id} does not exist")
    return app


def update_app_config(
    principal: Principal, app_id: str, request: AppConfigPatchRequest
) -> AppConfigResponse:
    """Apply a PATCH (see `apply_app_config`) and answer with the app's configuration.
    Gateway instances' tenant apps are configured through their enrolment only."""
    require_app_access(principal, app_id, SCOPE_CONFIG)
    if is_instance_tenant(app_id):
        raise BadRequestError(
            f"app ids starting with {INSTANCE_TENANT_PREFIX} belong to gateway instances; "
            "use /push/instances",
            code="reserved_app_id",
        )
    return to_response(apply_app_config(app_id, request, principal))


def _check_fields(
    request: AppConfigPatchRequest, existing: App | None, principal: Principal | None
) -> None:
    """Tenants set their own app's settings within the operator's limits; the limits, the
    kill switch and the app's service issuers are the operator's (admin tokens, or pushgate
    itself configuring a gateway instance's app)."""
    settings = get_settings()
    changed = request.model_fields_set
    operator = principal is None or principal.is_admin
    if principal is not None and existing is not None:
        # Checked again on the record this write is conditioned on (see _writer_condition).
        require_app_access(principal, existing.app_id, SCOPE_CONFIG, trust_of(existing))
    if not operator and changed & ADMIN_ONLY_FIELDS:
        raise ForbiddenError(
            "only an admin may set " + ", ".join(sorted(changed & ADMIN_ONLY_FIELDS)),
            code="admin_only_field",
        )
    if "max_daily_quota" in changed:
        cap = request.max_daily_quota or settings.default_max_daily_quota
    else:
        cap = max_daily_quota(existing, settings)
    if request.daily_quota is not None and request.daily_quota > cap:
        raise ForbiddenError(
            f"daily_quota may be at most the app's max_daily_quota, {cap}"
            + ("" if operator else "; ask the operator to raise it"),
            code="quota_above_max",
        )
    named = [(request.user_issuer, "user")] if request.user_issuer is not None else []
    named += [(issuer, "service") for issuer in request.service_issuers or ()]
    for issuer, role in named:
        trusted = settings.issuer(issuer)
        if trusted is None or role not in trusted.roles:
            raise BadRequestError(
                f"{issuer!r} is not a trusted issuer of {role} tokens", code="unknown_issuer"
            )


def apply_app_config(
    app_id: str, request: AppConfigPatchRequest, principal: Principal | None
) -> App:
    """Apply a PATCH, creating the app on first call and provisioning its VAPID keypair and
    webhook secret the first time it is enabled. Only the named fields are written, so the
    counters other functions maintain on the same item are never overwritten. `principal`
    is None when pushgate itself configures an app (a gateway instance's tenant app)."""
    settings = get_settings()
    changed = set(request.model_fields_set)
    if request.webhook_url is not None:
        check_outbound_url(
            request.webhook_url, allow_private=settings.allow_private_urls, field="webhook_url"
        )
    for _ in range(_PROVISIONING_ATTEMPTS):
        existing = apps.get(app_id, consistent=True)
        _check_fields(request, existing, principal)
        change = _field_change(request, changed)
        if "fcm_service_account" in changed:
            _fcm_account_change(app_id, request, change)
        now = clock.rfc3339()
        change.assign["updated_at"] = now
        change.assign_if_absent |= {"created_at": now, "device_count": 0}
        # The app's issuer is the one it is created with (for apps older than the field, the
        # issuer their trust already defaulted to); pushgate's own apps have none.
        bound_issuer = (
            trust_of(existing).issuer
            if existing is not None
            else (principal.issuer if principal is not None else None)
        )
        if bound_issuer is not None:
            change.assign_if_absent["issuer"] = bound_issuer
        if "daily_quota" not in changed:
            change.assign_if_absent["daily_quota"] = settings.default_daily_quota
        if "enabled" not in changed:
            change.assign_if_absent["enabled"] = False
        provisioned = _provisioning(app_id, request, existing, change)
        try:
            written = apps.write(app_id, change, _expectation(existing, principal, provisioned))
        except WriteConflictError:
            continue  # another request created or provisioned first: re-read, check again
        action = "app.create" if existing is None else "app.update"
        record_change(action, principal=principal, app_id=app_id, fields=changed | provisioned)
        if existing is not None and "enabled" in changed and not written.enabled:
            # Its managed ntfy channels go with it; asked on every disabling PATCH, so one
            # whose removal could not be queued (503) is repaired by sending it again.
            removals.request_removal(app_id)
        return written
    raise ConflictError("the app is being changed concurrently; try again")


def _provisioning(
    app_id: str, request: AppConfigPatchRequest, existing: App | None, change: AppChange
) -> set[str]:
    """What the first enable provisions (a VAPID keypair, a webhook secret), added to
    `change`; the names of what it provisions."""
    enabling = request.enabled is True or (existing is not None and existing.enabled)
    provisioned: set[str] = set()
    if enabling and (existing is None or existing.vapid_public_key is None):
        keypair = VapidKey.generate()
        change.assign["vapid_public_key"] = keypair.public_key
        change.assign["vapid_private_key_sealed"] = secrets.seal_vapid_key(
            app_id, keypair.export_private_key()
        )
        provisioned.add("vapid_keypair")
    if enabling and (existing is None or existing.webhook_secret_sealed is None):
        change.assign["webhook_secret_sealed"] = secrets.seal_webhook_secret(
            app_id, secrets.new_webhook_secret()
        )
        provisioned.add("webhook_secret")
    return provisioned


def _expectation(
    existing: App | None, principal: Principal | None, provisioned: set[str]
) -> AppExpectation:
    """The write must find the app as the checks saw it: still absent when it is being
    created (so two creators cannot both become its issuer), unchanged since it was read when
    a service token writes (its issuer and limits are what the checks allowed), and without
    what this write provisions (so two first enables cannot both provision)."""
    without = tuple(
        name
        for name, kind in (
            ("vapid_public_key", "vapid_keypair"),
            ("webhook_secret_sealed", "webhook_secret"),
        )
        if kind in provisioned
    )
    by_service = principal is not None and principal.kind == "service"
    return AppExpectation(
        absent=existing is None,
        updated_at=existing.updated_at if existing is not None and by_service else None,
        without=without,
    )


_SETTABLE_FIELDS = (
    "enabled",
    "daily_quota",
    "webhook_url",
    "vapid_subject",
    "max_daily_quota",
    "suspended",
    "service_issuers",
    "user_issuer",
)


def _field_change(request: AppConfigPatchRequest, changed: set[str]) -> AppChange:
    # null removes a value; fields that cannot be absent go back to their default instead
    # (an app without daily_quota broke every read of its config and every send with a 500).
    defaults = {"enabled": False, "daily_quota": get_settings().default_daily_quota}
    change = AppChange()
    for name in _SETTABLE_FIELDS:
        if name not in changed:
            continue
        value = getattr(request, name)
        if value is None and name in defaults:
            value = defaults[name]
        if value is None:
            change.remove.add(name)
        else:
            change.assign[name] = value
    if "webhook_url" in changed:  # a new URL is a fresh start after a 410
        change.remove |= {"webhook_disabled_at", "webhook_disabled_reason"}
    return change


def _fcm_account_change(app_id: str, request: AppConfigPatchRequest, change: AppChange) -> None:
    if request.fcm_service_account is None:
        change.remove |= {"fcm_service_account_sealed", "fcm_project_id"}
        return
    try:
        account = ServiceAccount.parse(request.fcm_service_account)
    except InvalidServiceAccountError as exc:
        raise BadRequestError(f"fcm_service_account: {exc}", code="invalid_request") from None
    change.assign["fcm_service_account_sealed"] = secrets.seal_fcm_account(
        app_id, request.fcm_service_account
    )
    change.assign["fcm_project_id"] = account.project_id


def get_app_config(principal: Principal, app_id: str) -> AppConfigResponse:
    require_app_access(principal, app_id, SCOPE_CONFIG)
    return to_response(load_app(app_id))


def get_public_vapid_key(app_id: str) -> str:
    """The key browsers subscribe with; unknown, disabled and suspended apps look the same
    (404)."""
    record = apps.get(app_id, fields=["enabled", "suspended", "vapid_public_key"])
    if record is None or not record.enabled or record.suspended or not record.vapid_public_key:
        raise NotFoundError(f"app {app_id} does not exist or push is disabled")
    return record.vapid_public_key


def to_response(record: App) -> AppConfigResponse:
    settings = get_settings()
    trust = trust_of(record)
    secret = None
    if record.webhook_secret_sealed:
        secret = secrets.open_webhook_secret(record.app_id, record.webhook_secret_sealed)
    webhook_status = "none"
    if record.webhook_url:
        webhook_status = "disabled" if record.webhook_disabled_at else "active"
    return AppConfigResponse(
        app_id=record.app_id,
        enabled=record.enabled,
        webhook_url=record.webhook_url,
        webhook_secret=secret,
        webhook_status=webhook_status,
        webhook_disabled_reason=record.webhook_disabled_reason,
        daily_quota=record.daily_quota or settings.default_daily_quota,
        max_daily_quota=max_daily_quota(record, settings),
        suspended=trust.suspended,
        issuer=trust.issuer,
        service_issuers=sorted(trust.service_issuers),
        user_issuer=trust.user_issuer,
        device_count=record.device_count,
        notifications_today=read_count(daily_quota_key(record.app_id, clock.utc_day())),
        vapid_public_key=record.vapid_public_key,
        vapid_subject=record.vapid_subject,
        fcm_project_id=record.fcm_project_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def rotate_webhook_secret(principal: Principal, app_id: str) -> WebhookSecretRotationResponse:
    """A new webhook secret; the previous one keeps signing receipts (as a second signature)
    for 24 h so receivers can switch without losing a receipt."""
    require_app_access(principal, app_id, SCOPE_CONFIG)
    app = load_app(app_id)
    now = clock.epoch()
    secret = secrets.new_webhook_secret()
    change = AppChange(
        assign={
            "webhook_secret_sealed": secrets.seal_webhook_secret(app_id, secret),
            "updated_at": clock.rfc3339(now),
        }
    )
    valid_until = None
    if app.webhook_secret_sealed:
        old = secrets.open_webhook_secret(app_id, app.webhook_secret_sealed)
        change.assign["webhook_previous_secret_sealed"] = secrets.seal_previous_secret(
            app_id, old.encode()
        )
        change.assign["webhook_secret_rotated_at"] = now
        valid_until = clock.rfc3339(now + secrets.SECRET_OVERLAP_SECONDS)
    # Conditional on the secret we read, so two concurrent rotations cannot lose one.
    expect = AppExpectation(equal={"webhook_secret_sealed": app.webhook_secret_sealed})
    try:
        apps.write(app_id, change, expect)
    except WriteConflictError:
        raise ConflictError("the secret was rotated concurrently; try again") from None
    record_change(
        "app.webhook_secret.rotate", principal=principal, app_id=app_id, fields=["webhook_secret"]
    )
    return WebhookSecretRotationResponse(
        webhook_secret=secret, previous_secret_valid_until=valid_until
    )
