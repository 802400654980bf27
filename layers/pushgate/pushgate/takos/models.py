"""API models of the gateway-client (takos) protocol: signed payloads, in pushgate's envelope
and in the wire format real takos instances send, and instance enrolment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
)

from pushgate.apps.models import MAX_DAILY_QUOTA
from pushgate.devices.addresses import Platform
from pushgate.notifications.models import UserId

# The name a client puts in `instance`: a DNS-style name, optionally with a port, or a slug
# `external:<name>` that an operator enrols (the takos gateway documentation's form). Names
# are case-insensitive: requests' are lower-cased before they are checked. No `#`, so
# `instance#<name>` and `<name>#<nonce>` keys stay unambiguous.
INSTANCE_PATTERN = (
    r"^(?:[a-z0-9](?:[a-z0-9._-]{0,110}[a-z0-9])?(?::[0-9]{1,5})?"
    r"|external:[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?)$"
)
EXTERNAL_PREFIX = "external:"
# `takos:<tenant>` must stay a valid app id (APP_ID_PATTERN, at most 128 characters).
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$"
NONCE_PATTERN = r"^[A-Za-z0-9._~+/=-]{16,128}$"
MAX_SIGNATURE_LENGTH = 512

Timestamp = Annotated[
    StrictStr | StrictInt | StrictFloat,
    Field(description="RFC 3339 string, or epoch seconds or milliseconds"),
]


def normalize_instance(value: object) -> object:
    """Instance names as operators configure them (takos sends `INSTANCE_DOMAIN` verbatim on
    registrations and lower-cased on events): surrounding space dropped, case folded."""
    return value.strip().lower() if isinstance(value, str) else value


InstanceName = Annotated[
    str,
    BeforeValidator(normalize_instance),
    Field(
        pattern=INSTANCE_PATTERN,
        description="The instance's name (case-insensitive): a host name with optional port, "
        "or `external:<slug>` for an enrolled instance",
    ),
]
Nonce = Annotated[str, Field(pattern=NONCE_PATTERN, description="16-128 characters, single use")]
BodySignature = Annotated[
    str | None,
    Field(
        None,
        max_length=MAX_SIGNATURE_LENGTH,
        description="The signature, when not sent as X-Push-Signature (takos instances put it "
        "here): over the canonical JSON of the body without this field",
    ),
]


class SignedPayload(BaseModel):
    """What every signed request in pushgate's envelope carries besides its content."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    instance: InstanceName
    userId: UserId
    issuedAt: Timestamp
    expiresAt: Timestamp
    nonce: Nonce
    signature: BodySignature = None


class GatewayRegistrationRequest(SignedPayload):
    action: Literal["register", "deregister"]
    token: str | dict[str, Any] = Field(
        description="The device's push token, in the forms `push_token` takes at "
        "/push/devices/register"
    )
    platform: Platform | Literal["", "unknown"] = Field(
        description='`""` or `unknown` (takos\' defaults): inferred from the token, an FCM '
        "token being `android`; ignored on deregister"
    )
    appId: str | None = Field(
        None,
        max_length=256,
        pattern=r"^[\x21-\x7e]*$",
        description="The client app (for example its bundle id); informational, may be empty",
    )


class GatewayEventRequest(SignedPayload):
    title: StrictStr = Field(max_length=1024)
    body: StrictStr = Field(max_length=4000)
    data: dict[str, StrictStr] | None = Field(
        None, max_length=100, description="Flat object of string values"
    )
    url: str | None = Field(None, max_length=2048)


TAKOS_NOTIFICATION_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,128}$"
MAX_MESSAGE_LENGTH = 4000


class TakosNotification(BaseModel):
    """The notification a takos instance stored for its user. Fields later versions add
    (`data_json`) and any others are kept: the signature covers them."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    id: str = Field(pattern=TAKOS_NOTIFICATION_ID_PATTERN, description="Unique per instance")
    type: StrictStr = Field(max_length=64, description="follow_request, like, mention, test, ...")
    user_id: StrictStr | None = Field(None, max_length=256)
    actor_id: StrictStr | None = Field(None, max_length=256)
    ref_type: StrictStr | None = Field(None, max_length=64)
    ref_id: StrictStr | None = Field(None, max_length=256)
    message: StrictStr | None = Field(None, max_length=MAX_MESSAGE_LENGTH)
    created_at: Timestamp | None = None
    read: StrictInt | StrictBool | None = None
    data_json: dict[str, Any] | None = None


class TakosEventRequest(BaseModel):
    """A notification event as takos instances send it: no envelope (issuedAt, expiresAt,
    nonce), the signature in X-Push-Signature; replays are told apart by `notification.id`."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    instance: InstanceName
    userId: UserId
    tenant: StrictStr | None = Field(
        None, max_length=300, description="Sent by older instances; the enrolment decides"
    )
    notification: TakosNotification


def _event_shape(value: Any) -> str:
    if isinstance(value, dict):
        return "takos" if "notification" in value else "pushgate"
    return "takos" if isinstance(value, TakosEventRequest) else "pushgate"


# POST /push/webhook and /internal/push/events take either shape, told apart by
# `notification` (so a refusal names the fields of the shape that was meant).
EventRequest = Annotated[
    Annotated[GatewayEventRequest, Tag("pushgate")] | Annotated[TakosEventRequest, Tag("takos")],
    Discriminator(_event_shape),
]


class GatewayRegistration(BaseModel):
    model_config = ConfigDict(defer_build=True)

    device_id: str
    tenant: str
    user_id: str
    action: Literal["register", "deregister"]


class GatewayRegistrationResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    registration: GatewayRegistration


class InstancePutRequest(BaseModel):
    """An instance's whole enrolment (PUT replaces it)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    push_secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        pattern=r"^[\x21-\x7e]+$",
        description="A shared secret the instance also sends as `X-Push-Secret` (takos' "
        "PUSH_WEBHOOK_SECRET); write-only, stored sealed. When set, requests without it are "
        "refused; when not, the header is ignored",
    )
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
    model_config = ConfigDict(defer_build=True)

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
    push_secret_set: bool = Field(description="Requests must carry X-Push-Secret")
    device_count: int
    notifications_today: int
    created_at: str
    updated_at: str


class InstancesPageResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    instances: list[InstanceResponse]
    next_cursor: str | None = Field(description="For the next page; null on the last one")
