"""API models of the send function, and the job a notification becomes on the queue."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from pushgate.approvals.actions import ApprovalPush

Urgency = Literal["very-low", "low", "normal", "high"]
DeliveryStatus = Literal["queued", "delivered", "failed", "invalid_token", "expired"]
FinalStatus = Literal["delivered", "failed", "invalid_token", "expired"]

MAX_TTL_SECONDS = 2_419_200  # RFC 8030 services keep messages up to four weeks
MAX_WEBPUSH_PLAINTEXT = 3993  # 4096-byte record minus RFC 8291 overhead
NOTIFICATION_ID_PATTERN = r"^ntf_[0-9a-z]{26}$"
UserId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
# FCM refuses these data keys; notification_id and interactions_url are pushgate's own.
_RESERVED_DATA_KEYS = {
    "from",
    "notification",
    "message_type",
    "notification_id",
    "interactions_url",
}
_RESERVED_DATA_PREFIXES = ("google", "gcm")


def _check_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


def _check_data(value: dict[str, str] | None) -> dict[str, str] | None:
    for key in value or {}:
        if key in _RESERVED_DATA_KEYS or key.lower().startswith(_RESERVED_DATA_PREFIXES):
            raise ValueError(f"data key {key!r} is reserved")
    return value


HttpUrlText = Annotated[str | None, Field(None, max_length=2048), AfterValidator(_check_url)]
DataFields = Annotated[
    Annotated[
        dict[Annotated[str, Field(min_length=1, max_length=128)], StrictStr],
        Field(max_length=100),
    ]
    | None,
    AfterValidator(_check_data),
    Field(description="Flat object of string values"),
]


class MessageContent(BaseModel):
    """What every send carries besides its recipients."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    title: StrictStr = Field(max_length=1024)
    body: StrictStr = Field(max_length=4000)
    data: DataFields = None
    ttl: int = Field(3600, ge=0, le=MAX_TTL_SECONDS, strict=True, description="Seconds")
    urgency: Urgency = "normal"
    collapse_key: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Also the Web Push Topic"
    )
    url: HttpUrlText = None
    icon: HttpUrlText = None
    image: HttpUrlText = None

    def webpush_document(self, notification_id: str) -> dict[str, Any]:
        """The JSON a Web Push subscriber decrypts (docs/api.md describes it)."""
        return {
            "notification_id": notification_id,
            "title": self.title,
            "body": self.body,
            "data": self.data or {},
            "url": self.url,
            "icon": self.icon,
            "image": self.image,
            "tag": self.collapse_key,
        }

    def webpush_payload(self, notification_id: str) -> bytes:
        return encode_payload(self.webpush_document(notification_id))


def encode_payload(document: dict[str, Any]) -> bytes:
    """A Web Push payload document as the bytes encrypted for the subscriber."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class SendRequest(MessageContent):
    user_id: UserId


class BulkSendRequest(MessageContent):
    user_ids: list[UserId] = Field(min_length=1, description="Unique user ids")

    @model_validator(mode="after")
    def _unique(self) -> BulkSendRequest:
        if len(set(self.user_ids)) != len(self.user_ids):
            raise ValueError("user_ids must be unique")
        return self


class BatchSendRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    notifications: list[SendRequest] = Field(min_length=1)


class SendResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    notification_id: str


class BulkSendResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    notification_ids: list[str]


class Delivery(BaseModel):
    model_config = ConfigDict(defer_build=True)

    device_id: str
    platform: str
    status: DeliveryStatus
    error: str | None
    attempts: int
    updated_at: str
    # What the device reported (pushgate.interactions); null until it did.
    displayed_at: str | None = Field(description="When the device first showed it")
    clicked_at: str | None = Field(description="When the user first tapped it")
    clicked_action: str | None = Field(
        description="The notification action of that tap; null for the notification itself"
    )


class NotificationStatusResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    notification_id: str
    app_id: str
    user_id: str
    created_at: str
    deliveries: list[Delivery]


class DeliveryJob(BaseModel):
    """One SQS message: deliver one notification to one user's devices.

    `device_ids` is None on a first attempt to all the user's devices; a re-queued retry, or
    a send to some of the user's devices only, names them."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    v: Literal[1] = 1
    notification_id: str
    app_id: str
    user_id: str
    message: MessageContent
    created_at: float
    expires_at: float
    attempt: int = 0
    device_ids: list[str] | None = None
    # An approval request's push, or the notice replacing it once it is answered or expired.
    approval: ApprovalPush | None = None
    # False for pushgate's own pushes (an approval's replacement): outcomes are recorded,
    # and no receipt goes to the tenant.
    receipts: bool = True
    # The broadcast this job fans out (pushgate.broadcasts): its outcomes are counted there too.
    broadcast_id: str | None = None
