"""API models of the gateway-client (takos) protocol: signed payloads and instance enrolment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from pushgate.apps.models import MAX_DAILY_QUOTA
from pushgate.devices.addresses import Platform
from pushgate.notifications.models import UserId

# Lower-case DNS-style names, optionally with a port: the name a client puts in `instance`.
# No `#`, so `instance#<name>` and `<name>#<nonce>` keys stay unambiguous.
INSTANCE_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,110}[a-z0-9])?(?::[0-9]{1,5})?$"
# `takos:<tenant>` must stay a valid app id (APP_ID_PATTERN, at most 128 characters).
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$"
NONCE_PATTERN = r"^[A-Za-z0-9._~+/=-]{16,128}$"
MAX_SIGNATURE_LENGTH = 512

Timestamp = Annotated[
    StrictStr | StrictInt | StrictFloat,
    Field(description="RFC 3339 string, or epoch seconds or milliseconds"),
]
InstanceName = Annotated[str, Field(pattern=INSTANCE_PATTERN)]
Nonce = Annotated[str, Field(pattern=NONCE_PATTERN, description="16-128 characters, single use")]


class SignedPayload(BaseModel):
    """What every signed request carries besides its content."""

    model_config = ConfigDict(extra="forbid")

    instance: InstanceName
    userId: UserId
    issuedAt: Timestamp
    expiresAt: Timestamp
    nonce: Nonce


class GatewayRegistrationRequest(SignedPayload):
    action: Literal["register", "deregister"]
    token: str | dict[str, Any] = Field(
        description="The device's push token, in the forms `push_token` takes at "
        "/push/devices/register"
    )
    platform: Platform
    appId: str | None = Field(
        None,
        max_length=256,
        pattern=r"^[\x21-\x7e]+$",
        description="The client app (for example its bundle id); informational",
    )


class GatewayEventRequest(SignedPayload):
    title: StrictStr = Field(max_length=1024)
    body: StrictStr = Field(max_length=4000)
    data: dict[str, StrictStr] | None = Field(
        None, max_length=100, description="Flat object of string values"
    )
    url: str | None = Field(None, max_length=2048)


class GatewayRegistration(BaseModel):
    device_id: str
    tenant: str
    user_id: str
    action: Literal["register", "deregister"]


class GatewayRegistrationResponse(BaseModel):
    registration: GatewayRegistration


class InstancePutRequest(BaseModel):
    """An instance's whole enrolment (PUT replaces it)."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(
        min_length=1,
        max_length=300,
        description="Where the instance publishes /.well-known/takos-push.json: a host name "
        "with optional port (fetched over https), or where private URLs are allowed (the "
        "local stack) a full origin such as http://127.0.0.1:8080",
    )
    tenant: str | None = Field(
        None,
        pattern=TENANT_PATTERN,
        description="Tenant when the well-known document names none (default: the instance)",
    )
    enabled: StrictBool
    daily_quota: StrictInt | None = Field(
        None,
        ge=1,
        le=MAX_DAILY_QUOTA,
        description="Notifications per UTC day (default: the deployment's)",
    )


class InstanceResponse(BaseModel):
    instance: str
    domain: str
    tenant: str | None = Field(
        description="The enrolled tenant: it wins over the well-known document's"
    )
    enabled: bool
    daily_quota: int
    enrolled_by: Literal["admin", "open"]
    tenant_app_id: str | None = Field(
        description="`takos:<tenant>`, the app that owns the instance's devices and quota, once "
        "the instance has made a valid request"
    )
    device_count: int
    notifications_today: int
    created_at: str
    updated_at: str
