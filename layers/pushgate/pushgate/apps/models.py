"""API models of the config function: what tenants and operators send and read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from pushgate.vapid_subject import MAX_SUBJECT_LENGTH, check_vapid_subject

APP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_DAILY_QUOTA = 100_000_000
# Gateway instances act as the apps `takos:<tenant>`, managed through /push/instances: no
# tenant app may be created under this prefix, so the two can never collide.
INSTANCE_TENANT_PREFIX = "takos:"


# Devices a gateway instance registers name it as their owner, where a user's devices name
# the issuer of the user's token: the instance is its users' issuer.
INSTANCE_OWNER_PREFIX = "takos-instance:"
# Fields only an operator (admin token) may set: the limits and the kill switch a tenant's
# own token must not be able to undo.
ADMIN_ONLY_FIELDS = frozenset({"max_daily_quota", "suspended", "service_issuers"})
MAX_SERVICE_ISSUERS = 10


def is_instance_tenant(app_id: str) -> bool:
    return app_id.startswith(INSTANCE_TENANT_PREFIX)


def instance_owner(instance: str) -> str:
    """The owner (user issuer) of the devices a gateway instance registers."""
    return f"{INSTANCE_OWNER_PREFIX}{instance}"


def not_instance_tenant(app_id: str) -> str:
    """Validator: refuses app ids reserved for gateway instances."""
    if is_instance_tenant(app_id):
        raise ValueError(f"app ids starting with {INSTANCE_TENANT_PREFIX} are reserved")
    return app_id


def _check_vapid_subject(value: str | None) -> str | None:
    return value if value is None else check_vapid_subject(value)


IssuerName = Annotated[str, Field(min_length=1, max_length=512)]


class AppConfigPatchRequest(BaseModel):
    """Fields to change; omitted fields keep their value, `webhook_url: null` removes it,
    `daily_quota: null` and `enabled: null` return to the defaults (the deployment's quota,
    disabled), `max_daily_quota: null` to the deployment's cap, `user_issuer: null` to the
    app's issuer. `max_daily_quota`, `suspended` and `service_issuers` are for admins."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    enabled: StrictBool | None = Field(None, description="Accept registrations and sends")
    webhook_url: str | None = Field(
        None, max_length=2048, description="https URL receiving signed delivery receipts"
    )
    daily_quota: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_DAILY_QUOTA,
        description="Notifications per UTC day; a tenant may set at most `max_daily_quota`",
    )
    max_daily_quota: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_DAILY_QUOTA,
        description="Admins only: the most `daily_quota` may be (the enforced limit is the "
        "smaller of the two)",
    )
    suspended: StrictBool | None = Field(
        None,
        description="Admins only: the operator's kill switch; a suspended app accepts no "
        "registration or send and its queued deliveries end as `failed` (`app_disabled`), "
        "whatever `enabled` says",
    )
    service_issuers: list[IssuerName] | None = Field(
        None,
        max_length=MAX_SERVICE_ISSUERS,
        description="Admins only: trusted issuers whose service tokens may act for the app "
        "besides the one it was created with",
    )
    user_issuer: IssuerName | None = Field(
        None,
        description="The trusted issuer whose users this app's `user_id`s name: only its user "
        "tokens register devices, and sends reach only their devices (default: the issuer "
        "the app was created with)",
    )
    vapid_subject: Annotated[str | None, AfterValidator(_check_vapid_subject)] = Field(
        None,
        max_length=MAX_SUBJECT_LENGTH,
        description="VAPID `sub`: a mailto: address or https: URL on a real domain (no "
        "placeholders such as localhost or example.com: Apple's push service refuses them)",
    )
    fcm_service_account: dict[str, Any] | None = Field(
        None,
        description="The app's own Google service-account JSON for FCM (write-only; stored "
        "encrypted; overrides the deployment's). null removes it.",
    )


class AppConfigResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    app_id: str
    enabled: bool
    webhook_url: str | None
    webhook_secret: str | None = Field(description="`whsec_` secret that signs receipts")
    webhook_status: Literal["none", "active", "disabled"] = Field(
        description="`disabled` after the receiver answered 410 Gone, until a URL is set again"
    )
    webhook_disabled_reason: str | None
    daily_quota: int
    max_daily_quota: int = Field(description="The most `daily_quota` may be set to by a tenant")
    suspended: bool = Field(description="Suspended by an operator: nothing is sent")
    issuer: str | None = Field(description="The issuer the app was created with")
    service_issuers: list[str] = Field(
        description="Further issuers whose service tokens may act for the app"
    )
    user_issuer: str | None = Field(description="The issuer whose users `user_id` names")
    device_count: int
    notifications_today: int
    vapid_public_key: str | None = Field(
        description="base64url of the 65-byte uncompressed P-256 point"
    )
    vapid_subject: str | None
    fcm_project_id: str | None = Field(
        description="Project of the app's own FCM service account, if it uploaded one"
    )
    created_at: str
    updated_at: str


class VapidPublicKeyResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    publicKey: str = Field(description="base64url of the 65-byte uncompressed P-256 point")


class WebhookSecretRotationResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    webhook_secret: str = Field(description="The new `whsec_` secret")
    previous_secret_valid_until: str | None = Field(
        description="Until then receipts also carry a signature with the previous secret"
    )


class AppSummary(BaseModel):
    model_config = ConfigDict(defer_build=True)

    app_id: str
    enabled: bool
    suspended: bool = Field(description="Suspended by an operator: nothing is sent")
    daily_quota: int
    device_count: int
    notifications_today: int
    created_at: str | None = Field(
        description="null only for a gateway instance's tenant app claimed but not yet set up"
    )
    updated_at: str | None


class AppsPageResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    apps: list[AppSummary] = Field(description="In the table's order (stable, not alphabetical)")
    next_cursor: str | None = Field(description="For the next page; null on the last one")


class HourOutcomes(BaseModel):
    model_config = ConfigDict(defer_build=True)

    hour: str = Field(description="The UTC hour's start, RFC 3339 (`2026-12-01T11:00:00Z`)")
    delivered: int = 0
    failed: int = 0
    invalid_token: int = 0
    expired: int = 0


class AppStatsResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    app_id: str
    hours: list[HourOutcomes] = Field(
        description="One entry per hour, oldest first; the last is the current hour"
    )
