"""API models of the broadcast routes, and the page message the fan-out worker takes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pushgate.devices.addresses import Platform
from pushgate.notifications.models import MessageContent

BroadcastStatus = Literal["running", "finished", "cancelled", "quota_exhausted"]
# A page message is tried 5 times, each after the BroadcastQueue's 180 s visibility timeout:
# a running broadcast none of whose pages was committed for longer than that whole budget
# has stalled (its page is in the DLQ), reads as cancelled, and the app may start another.
LEASE_SECONDS = 20 * 60
STALLED_REASON = "stalled: no page was processed for 20 minutes (see the BroadcastDLQ)"


class BroadcastRequest(MessageContent):
    platforms: list[Platform] | None = Field(
        None, min_length=1, description="Only devices of these platforms (default: all)"
    )

    @model_validator(mode="after")
    def _unique(self) -> BroadcastRequest:
        if self.platforms is not None and len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms must be unique")
        return self


class BroadcastResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    broadcast_id: str


class BroadcastOutcomes(BaseModel):
    model_config = ConfigDict(defer_build=True)

    delivered: int
    failed: int
    invalid_token: int
    expired: int


class BroadcastStatusResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    broadcast_id: str
    app_id: str
    status: BroadcastStatus
    total: int = Field(description="The app's device count when the broadcast started")
    reached: int = Field(description="Devices queued for delivery so far")
    by_outcome: BroadcastOutcomes = Field(description="Final outcomes of the devices reached")
    finished: bool = Field(
        description="No page is left to queue and every device reached has a final outcome"
    )
    created_at: str
    finished_at: str | None = Field(description="When the last page was queued, or it stopped")
    reason: str | None = Field(description="Why it stopped early (quota, cancel, a stall)")


class BroadcastPage(BaseModel):
    """One BroadcastQueue message: fan out page `page` (0-based) of the app's devices,
    which starts after the device id `after` (None: the first)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    v: Literal[1] = 1
    broadcast_id: str
    app_id: str
    page: int = Field(ge=0)
    after: str | None = None
