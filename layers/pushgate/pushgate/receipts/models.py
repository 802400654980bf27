"""The receipt a tenant's webhook receives, and its envelope on the receipt queue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pushgate.notifications.models import FinalStatus


class Receipt(BaseModel):
    """The webhook body: one final delivery outcome (docs/receipts.md), nothing more."""

    model_config = ConfigDict(extra="forbid")

    notification_id: str
    user_id: str
    device_id: str
    app_id: str
    platform: str
    status: FinalStatus
    error: str | None
    timestamp: str


class ReceiptMessage(BaseModel):
    """A receipt on the queue, with its delivery history (`first_attempt_at` bounds retries
    to 24 h; `attempt` drives the backoff)."""

    model_config = ConfigDict(extra="forbid")

    receipt: Receipt
    attempt: int = 0
    first_attempt_at: float | None = None
