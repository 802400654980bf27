"""Per-app configuration logic: create, update, provision secrets on first enable, read."""

from __future__ import annotations

import base64
import json
import os

from pynamodb.exceptions import UpdateError

from pushgate import clock
from pushgate.apps.models import (
    INSTANCE_TENANT_PREFIX,
    AppConfigPatchRequest,
    AppConfigResponse,
    WebhookSecretRotationResponse,
    is_instance_tenant,
)
from pushgate.audit import record_change
from pushgate.auth import Principal
from pushgate.crypto import VapidKey
from pushgate.encryption import get_cipher
from pushgate.errors import BadRequestError, ConflictError, NotFoundError
from pushgate.providers import InvalidServiceAccountError, ServiceAccount
from pushgate.settings import get_settings
from pushgate.storage.apps import AppRecord
from pushgate.storage.counters import daily_quota_key, read_count
from pushgate.urls import check_outbound_url
from pushgate.webhooks.signing import SECRET_PREFIX

_PROVISIONING_ATTEMPTS = 3


def webhook_secret_binding(app_id: str) -> str:
    return f"apps/{app_id}/webhook_secret"


def vapid_key_binding(app_id: str) -> str:
    return f"apps/{app_id}/vapid_private_key"


def new_webhook_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def previous_secret_binding(app_id: str) -> str:
    return f"apps/{app_id}/webhook_previous_secret"


def fcm_account_binding(app_id: str) -> str:
    return f"apps/{app_id}/fcm_service_account"


def load_app(app_id: str) -> AppRecord:
    try:
        return AppRecord.get(app_id)
    except AppRecord.DoesNotExist:
        raise NotFoundError(f"app {app_id} does not exist") from None


def update_app_config(
    app_id: str, request: AppConfigPatchRequest, principal: Principal
) -> AppConfigResponse:
    """Apply a PATCH (see `apply_app_config`) and answer with the app's configuration.
    Gateway instances' tenant apps are configured through their enrolment only."""
    if is_instance_tenant(app_id):
        raise BadRequestError(
            f"app ids starting with {INSTANCE_TENANT_PREFIX} belong to gateway instances; "
            "use /push/instances",
            code="reserved_app_id",
        )
    return to_response(apply_app_config(app_id, request, principal))


def apply_app_config(
    app_id: str, request: AppConfigPatchRequest, principal: Principal | None
) -> AppRecord:
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
        try:
            existing: AppRecord | None = AppRecord.get(app_id)
        except AppRecord.DoesNotExist:
            existing = None
        record = AppRecord(app_id)
        actions = _field_actions(request, changed)
        if "fcm_service_account" in changed:
            actions += _fcm_account_actions(app_id, request)
        now = clock.rfc3339()
        actions += [
            AppRecord.updated_at.set(now),
            AppRecord.created_at.set(AppRecord.created_at | now),
            AppRecord.device_count.set(AppRecord.device_count | 0),
        ]
        if "daily_quota" not in changed:
            actions.append(
                AppRecord.daily_quota.set(AppRecord.daily_quota | settings.default_daily_quota)
            )
        if "enabled" not in changed:
            actions.append(AppRecord.enabled.set(AppRecord.enabled | False))
        enabling = request.enabled is True or (existing is not None and existing.enabled)
        provisioned: list[str] = []
        condition = None
        if enabling and (existing is None or existing.vapid_public_key is None):
            actions += _vapid_actions(app_id)
            provisioned.append("vapid_keypair")
            condition = AppRecord.vapid_public_key.does_not_exist()
        if enabling and (existing is None or existing.webhook_secret_sealed is None):
            sealed = get_cipher().seal(
                new_webhook_secret().encode(), binding=webhook_secret_binding(app_id)
            )
            actions.append(AppRecord.webhook_secret_sealed.set(sealed))
            provisioned.append("webhook_secret")
            secret_absent = AppRecord.webhook_secret_sealed.does_not_exist()
            condition = secret_absent if condition is None else condition & secret_absent
        try:
            record.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue  # another request provisioned first: re-read and apply on top
            raise
        action = "app.create" if existing is None else "app.update"
        record_change(action, principal=principal, app_id=app_id, fields=changed | set(provisioned))
        return record
    raise ConflictError("the app is being changed concurrently; try again")


def _field_actions(request: AppConfigPatchRequest, changed: set[str]) -> list:
    # null removes a value; fields that cannot be absent go back to their default instead
    # (an app without daily_quota broke every read of its config and every send with a 500).
    defaults = {"enabled": False, "daily_quota": get_settings().default_daily_quota}
    actions = []
    for name in ("enabled", "daily_quota", "webhook_url", "vapid_subject"):
        if name not in changed:
            continue
        attribute = getattr(AppRecord, name)
        value = getattr(request, name)
        if value is None and name in defaults:
            value = defaults[name]
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if "webhook_url" in changed:  # a new URL is a fresh start after a 410
        actions += [
            AppRecord.webhook_disabled_at.remove(),
            AppRecord.webhook_disabled_reason.remove(),
        ]
    return actions


def _fcm_account_actions(app_id: str, request: AppConfigPatchRequest) -> list:
    if request.fcm_service_account is None:
        return [AppRecord.fcm_service_account_sealed.remove(), AppRecord.fcm_project_id.remove()]
    try:
        account = ServiceAccount.parse(request.fcm_service_account)
    except InvalidServiceAccountError as exc:
        raise BadRequestError(f"fcm_service_account: {exc}", code="invalid_request") from None
    sealed = get_cipher().seal(
        json.dumps(request.fcm_service_account).encode(), binding=fcm_account_binding(app_id)
    )
    return [
        AppRecord.fcm_service_account_sealed.set(sealed),
        AppRecord.fcm_project_id.set(account.project_id),
    ]


def _vapid_actions(app_id: str) -> list:
    keypair = VapidKey.generate()
    sealed = get_cipher().seal(
        keypair.export_private_key().encode(), binding=vapid_key_binding(app_id)
    )
    return [
        AppRecord.vapid_public_key.set(keypair.public_key),
        AppRecord.vapid_private_key_sealed.set(sealed),
    ]


def get_app_config(app_id: str) -> AppConfigResponse:
    return to_response(load_app(app_id))


def get_public_vapid_key(app_id: str) -> str:
    """The key browsers subscribe with; unknown and disabled apps look the same (404)."""
    try:
        record = AppRecord.get(app_id, attributes_to_get=["enabled", "vapid_public_key"])
    except AppRecord.DoesNotExist:
        record = None
    if record is None or not record.enabled or not record.vapid_public_key:
        raise NotFoundError(f"app {app_id} does not exist or push is disabled")
    return record.vapid_public_key


def to_response(record: AppRecord) -> AppConfigResponse:
    secret = None
    if record.webhook_secret_sealed:
        secret = (
            get_cipher()
            .open(record.webhook_secret_sealed, binding=webhook_secret_binding(record.app_id))
            .decode()
        )
    webhook_status = "none"
    if record.webhook_url:
        webhook_status = "disabled" if record.webhook_disabled_at else "active"
    return AppConfigResponse(
        app_id=record.app_id,
        enabled=bool(record.enabled),
        webhook_url=record.webhook_url,
        webhook_secret=secret,
        webhook_status=webhook_status,
        webhook_disabled_reason=record.webhook_disabled_reason,
        daily_quota=int(record.daily_quota),
        device_count=max(0, int(record.device_count or 0)),
        notifications_today=read_count(daily_quota_key(record.app_id, clock.utc_day())),
        vapid_public_key=record.vapid_public_key,
        vapid_subject=record.vapid_subject,
        fcm_project_id=record.fcm_project_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def rotate_webhook_secret(app_id: str, principal: Principal) -> WebhookSecretRotationResponse:
    """A new webhook secret; the previous one keeps signing receipts (as a second signature)
    for 24 h so receivers can switch without losing a receipt."""
    from pushgate.webhooks.service import SECRET_OVERLAP_SECONDS

    app = load_app(app_id)
    cipher = get_cipher()
    now = clock.epoch()
    secret = new_webhook_secret()
    actions = [
        AppRecord.webhook_secret_sealed.set(
            cipher.seal(secret.encode(), binding=webhook_secret_binding(app_id))
        ),
        AppRecord.updated_at.set(clock.rfc3339(now)),
    ]
    valid_until = None
    if app.webhook_secret_sealed:
        old = cipher.open(app.webhook_secret_sealed, binding=webhook_secret_binding(app_id))
        actions += [
            AppRecord.webhook_previous_secret_sealed.set(
                cipher.seal(old, binding=previous_secret_binding(app_id))
            ),
            AppRecord.webhook_secret_rotated_at.set(now),
        ]
        valid_until = clock.rfc3339(now + SECRET_OVERLAP_SECONDS)
    # Conditional on the secret we read, so two concurrent rotations cannot lose one.
    condition = (
        AppRecord.webhook_secret_sealed == app.webhook_secret_sealed
        if app.webhook_secret_sealed
        else AppRecord.webhook_secret_sealed.does_not_exist()
    )
    try:
        AppRecord(app_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ConflictError("the secret was rotated concurrently; try again") from None
        raise
    record_change(
        "app.webhook_secret.rotate", principal=principal, app_id=app_id, fields=["webhook_secret"]
    )
    return WebhookSecretRotationResponse(
        webhook_secret=secret, previous_secret_valid_until=valid_until
    )
