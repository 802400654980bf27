"""Deployment settings: one pydantic model, read from the environment on first use."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    Json,
    model_validator,
)

from pushgate.vapid_subject import check_vapid_subject

Role = Literal["user", "service", "admin"]
# What an issuer is trusted for when its entry names no roles: never admin unless named.
DEFAULT_ROLES: tuple[Role, ...] = ("user", "service")


def _as_tuple(value: object) -> object:
    return (value,) if isinstance(value, str) else value


class TrustedIssuer(BaseModel):
    """An OIDC issuer whose tokens pushgate accepts: where its signing keys live, which
    roles its tokens may take, and the audience every one of its tokens must carry."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    issuer: str = Field(min_length=1)
    jwks_url: HttpUrl
    # When set, every token of this issuer must name one of these in `aud` (user tokens add
    # the app ids they are for beside it).
    audience: Annotated[tuple[str, ...] | None, BeforeValidator(_as_tuple)] = Field(
        None, min_length=1
    )
    roles: tuple[Role, ...] = Field(DEFAULT_ROLES, min_length=1)

    @model_validator(mode="after")
    def _distinct_roles(self) -> TrustedIssuer:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must not repeat")
        return self

    def trusted_for(self, role: Role) -> bool:
        return role in self.roles


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip().lower() for part in value.split(",") if part.strip())
    return value


DEFAULT_WEBPUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "push.services.mozilla.com",
    "web.push.apple.com",
    "notify.windows.com",
)


class Settings(BaseModel):
    """Every knob pushgate reads from its environment (docs/configuration.md lists them)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    apps_table_name: str = Field("", alias="APPS_TABLE_NAME")
    devices_table_name: str = Field("", alias="DEVICES_TABLE_NAME")
    counters_table_name: str = Field("", alias="COUNTERS_TABLE_NAME")
    nonces_table_name: str = Field("", alias="NONCES_TABLE_NAME")
    notifications_table_name: str = Field("", alias="NOTIFICATIONS_TABLE_NAME")
    idempotency_table_name: str = Field("", alias="IDEMPOTENCY_TABLE_NAME")
    delivery_queue_url: str = Field("", alias="DELIVERY_QUEUE_URL")
    receipt_queue_url: str = Field("", alias="RECEIPT_QUEUE_URL")
    receipt_dlq_url: str = Field("", alias="RECEIPT_DLQ_URL")
    ntfy_channels_table_name: str = Field("", alias="NTFY_CHANNELS_TABLE_NAME")
    approvals_table_name: str = Field("", alias="APPROVALS_TABLE_NAME")
    approval_timeout_queue_url: str = Field("", alias="APPROVAL_TIMEOUT_QUEUE_URL")
    ntfy_cleanup_queue_url: str = Field("", alias="NTFY_CLEANUP_QUEUE_URL")
    broadcasts_table_name: str = Field("", alias="BROADCASTS_TABLE_NAME")
    broadcast_queue_url: str = Field("", alias="BROADCAST_QUEUE_URL")
    field_encryption_key_id: str = Field("", alias="FIELD_ENCRYPTION_KEY_ID")
    token_hash_key_id: str = Field("", alias="TOKEN_HASH_KEY_ID")

    trusted_issuers: Json[tuple[TrustedIssuer, ...]] = Field(
        default=(), alias="PUSHGATE_TRUSTED_ISSUERS"
    )
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, alias="PUSHGATE_JWT_LEEWAY_SECONDS")
    instance_enrollment: Literal["closed", "open"] = Field(
        "closed", alias="PUSHGATE_INSTANCE_ENROLLMENT"
    )
    default_daily_quota: int = Field(10_000, ge=1, alias="PUSHGATE_DEFAULT_DAILY_QUOTA")
    # The most a tenant may raise its own daily_quota to, until an operator sets the app's
    # max_daily_quota.
    default_max_daily_quota: int = Field(
        100_000, ge=1, le=100_000_000, alias="PUSHGATE_DEFAULT_MAX_DAILY_QUOTA"
    )
    # Devices one user may have in one app; registering one more replaces the least
    # recently seen. Also bounds one delivery job's fan-out and outcome item.
    max_devices_per_user: int = Field(50, ge=1, le=500, alias="PUSHGATE_MAX_DEVICES_PER_USER")
    # Gateway clients' well-known documents: how long a fetched one is trusted, and the least
    # time between two re-fetches that a failed signature may trigger.
    wellknown_cache_seconds: int = Field(
        3600, ge=0, le=86_400, alias="PUSHGATE_WELLKNOWN_CACHE_SECONDS"
    )
    wellknown_refetch_seconds: float = Field(
        10.0, ge=0, le=3600, alias="PUSHGATE_WELLKNOWN_REFETCH_SECONDS"
    )
    max_batch_size: int = Field(500, ge=1, le=500, alias="PUSH_MAX_BATCH_SIZE")
    allow_private_urls: bool = Field(False, alias="PUSHGATE_ALLOW_PRIVATE_URLS")
    local_mode: bool = Field(False, alias="PUSHGATE_LOCAL")  # set by the local stack only
    webpush_allowed_hosts: Annotated[tuple[str, ...], BeforeValidator(_split_csv)] = Field(
        DEFAULT_WEBPUSH_HOSTS, alias="PUSHGATE_WEBPUSH_ALLOWED_HOSTS"
    )

    fcm_api_url: str = Field("https://fcm.googleapis.com", alias="PUSHGATE_FCM_API_URL")
    google_token_url: str = Field(
        "https://oauth2.googleapis.com/token", alias="PUSHGATE_GOOGLE_TOKEN_URL"
    )
    # The deployment's default FCM service account: JSON text or a file path (local), or a
    # Secrets Manager secret holding the JSON (AWS). Apps may upload their own.
    fcm_credentials: str = Field("", alias="PUSHGATE_FCM_CREDENTIALS")
    fcm_credentials_secret_arn: str = Field("", alias="FCM_CREDENTIALS_SECRET_ARN")
    # Extra CA certificates (a PEM file) that delivery trusts besides the public roots, for
    # providers behind a private CA or TLS stand-ins in tests and benchmarks.
    ca_bundle: str = Field("", alias="PUSHGATE_CA_BUNDLE")
    # VAPID `sub` for apps that set none: the VapidSubject parameter (required, no default).
    default_vapid_subject: Annotated[str, AfterValidator(check_vapid_subject)] | None = Field(
        None, alias="PUSHGATE_VAPID_SUBJECT"
    )
    delivery_concurrency: int = Field(256, ge=1, le=2048, alias="PUSHGATE_DELIVERY_CONCURRENCY")
    retry_base_seconds: float = Field(5.0, gt=0, le=300, alias="PUSHGATE_RETRY_BASE_SECONDS")
    max_delivery_attempts: int = Field(8, ge=1, le=50, alias="PUSHGATE_MAX_DELIVERY_ATTEMPTS")
    # One provider call or receipt POST, connect to last byte (outbound.DEFAULT_DEADLINE_SECONDS).
    outbound_deadline_seconds: float = Field(
        10.0, gt=0, le=60, alias="PUSHGATE_OUTBOUND_DEADLINE_SECONDS"
    )
    # Managed private ntfy channels (pushgate.managed_ntfy): the server (empty: the feature is
    # off), its admin token and the publisher's token: Secrets Manager secrets in AWS, or the
    # values themselves locally and in tests.
    ntfy_server_url: str = Field("", alias="PUSHGATE_NTFY_URL")
    ntfy_admin_token: str = Field("", alias="PUSHGATE_NTFY_ADMIN_TOKEN", repr=False)
    ntfy_publish_token: str = Field("", alias="PUSHGATE_NTFY_PUBLISH_TOKEN", repr=False)
    ntfy_admin_token_secret_arn: str = Field("", alias="NTFY_ADMIN_TOKEN_SECRET_ARN")
    ntfy_publish_token_secret_arn: str = Field("", alias="NTFY_PUBLISH_TOKEN_SECRET_ARN")
    # Where the HTTP API is reached from outside (no trailing slash): approval pushes carry
    # decision URLs under it. The template sets the API's own endpoint, or PublicApiUrl.
    public_api_url: str = Field("", alias="PUSHGATE_PUBLIC_API_URL")
    # The console's sign-in (pushgate.console): the OpenID Connect issuer it uses (empty: the
    # console cannot sign in) and its public client id there.
    console_issuer: str = Field("", alias="PUSHGATE_CONSOLE_ISSUER")
    console_client_id: str = Field("pushgate-console", alias="PUSHGATE_CONSOLE_CLIENT_ID")
    # Test hook (pushgate.delivery.faults): honoured only with PUSHGATE_LOCAL=1.
    fault_crash_rate: float = Field(0.0, ge=0, le=1, alias="PUSHGATE_FAULT_CRASH_RATE")

    def issuer(self, name: str) -> TrustedIssuer | None:
        """The trusted issuer called `name` (its `iss`), or None."""
        return next((entry for entry in self.trusted_issuers if entry.issuer == name), None)

    @property
    def legacy_app_issuer(self) -> str | None:
        """The issuer of apps created before apps recorded theirs: the first trusted one."""
        return self.trusted_issuers[0].issuer if self.trusted_issuers else None

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        # CloudFormation passes empty strings for unset optional parameters: defaults apply.
        return cls.model_validate({k: v for k, v in env.items() if v != ""})


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once; tests call `get_settings.cache_clear()`."""
    return Settings.from_environ()
