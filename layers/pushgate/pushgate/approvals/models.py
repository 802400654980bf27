"""API models of the approval routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from pushgate.approvals.actions import MAX_ACTIONS, ApprovalAction, Status
from pushgate.notifications.models import DataFields, HttpUrlText, UserId

APPROVAL_ID_PATTERN = r"^apr_[0-9a-z]{26}$"
MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS = 10, 900  # SQS delays a message at most 900 s
DEFAULT_ACTIONS = [
    ApprovalAction(id="approve", label="Approve"),
    ApprovalAction(id="deny", label="Deny", denies=True),
]


def _check_actions(actions: list[ApprovalAction]) -> list[ApprovalAction]:
    if len({a.id for a in actions}) != len(actions):
        raise ValueError("action ids must be unique")
    if all(a.denies for a in actions):
        raise ValueError("at least one action must approve (denies: false)")
    return actions


class ApprovalRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    user_id: UserId
    title: StrictStr = Field(max_length=1024)
    body: StrictStr = Field(max_length=4000)
    timeout_seconds: int = Field(
        60,
        ge=MIN_TIMEOUT_SECONDS,
        le=MAX_TIMEOUT_SECONDS,
        strict=True,
        description="No decision within this many seconds: expired, which reads as denied",
    )
    actions: Annotated[list[ApprovalAction], AfterValidator(_check_actions)] = Field(
        default_factory=lambda: list(DEFAULT_ACTIONS), min_length=1, max_length=MAX_ACTIONS
    )
    data: DataFields = None
    url: HttpUrlText = None


class ApprovalCreatedResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    approval_id: str
    status: Status
    reason: str | None = Field(None, description="`no_devices` when it was denied at once")
    expires_at: str


class ApprovalStatusResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    approval_id: str
    status: Status
    approved: bool = Field(description="True only for `approved`; expired reads as denied")
    action: str | None = Field(description="The id of the action chosen")
    device_id: str | None = Field(description="The device it was chosen on")
    decided_at: str | None = Field(description="When it was decided, or expired")
    expires_at: str
    reason: str | None = None


class ApprovalTimeout(BaseModel):
    """The timeout worker's message, delayed by the request's timeout."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    approval_id: str
