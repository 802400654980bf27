"""The receipts a tenant's webhook receives, and their envelope on the receipt queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag

from pushgate.approvals.actions import Status as ApprovalStatus
from pushgate.interactions.models import InteractionEvent
from pushgate.notifications.models import FinalStatus
from pushgate.receipts.signing import webhook_id


class Receipt(BaseModel):
    """A delivery receipt: one final delivery outcome (docs/receipts.md), nothing more."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    type: Literal["delivery"] = "delivery"
    notification_id: str
    user_id: str
    device_id: str
    app_id: str
    platform: str
    status: FinalStatus
    error: str | None
    timestamp: str

    def webhook_id(self) -> str:
        return webhook_id(self.notification_id, self.device_id)


class ApprovalReceipt(BaseModel):
    """An approval receipt: how an approval request ended (decided, or expired: denied)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    type: Literal["approval"] = "approval"
    approval_id: str
    app_id: str
    user_id: str
    status: ApprovalStatus
    approved: bool
    action: str | None
    device_id: str | None
    decided_at: str | None
    reason: str | None
    timestamp: str

    def webhook_id(self) -> str:
        return webhook_id(self.approval_id, "approval")


class InteractionReceipt(BaseModel):
    """An interaction receipt: a device first showed a notification, or its user first
    tapped it (pushgate.interactions); one per event and device."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    type: Literal["interaction"] = "interaction"
    notification_id: str
    app_id: str
    user_id: str
    device_id: str
    platform: str
    event: InteractionEvent
    action: str | None
    timestamp: str  # when the event was recorded

    def webhook_id(self) -> str:
        return webhook_id(self.notification_id, f"{self.device_id}\n{self.event}")


def _kind(value: Any) -> str:
    """A receipt's type; queued before receipts had one, it is a delivery receipt."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind or "delivery"


class ReceiptMessage(BaseModel):
    """A receipt on the queue, with its delivery history (`first_attempt_at` bounds retries
    to 24 h; `attempt` drives the backoff)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    receipt: Annotated[
        Annotated[Receipt, Tag("delivery")]
        | Annotated[ApprovalReceipt, Tag("approval")]
        | Annotated[InteractionReceipt, Tag("interaction")],
        Discriminator(_kind),
    ]
    attempt: int = 0
    first_attempt_at: float | None = None
