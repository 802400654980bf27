"""An approval's buttons, and what an approval adds to a delivery job (imported by the job's
model, so it imports nothing of pushgate's)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

Status = Literal["pending", "approved", "denied", "expired"]
MAX_ACTIONS = 3  # ntfy shows at most three action buttons
ActionId = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]


class ApprovalAction(BaseModel):
    """One button: `denies` marks the ones whose tap refuses the request."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    id: ActionId
    label: StrictStr = Field(min_length=1, max_length=40)
    denies: bool = False


class ApprovalPush(BaseModel):
    """An approval on a delivery job: its buttons (each device gets decision URLs of its
    own), or, once it is answered or expired, the `status` that replaces it on the devices
    that showed it."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    approval_id: str
    actions: list[ApprovalAction] = Field(default_factory=list, max_length=MAX_ACTIONS)
    status: Status | None = None
