"""API models of the interactions route: what a device reports, and what is recorded."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

InteractionEvent = Literal["displayed", "clicked"]
ActionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class InteractionReport(BaseModel):
    """`{"event": "displayed"}` when the notification is shown, `{"event": "clicked",
    "action": ...}` when the user taps it."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    event: InteractionEvent
    action: ActionId | None = Field(
        None,
        description="`clicked` only: the id of the notification action tapped; null (or "
        "absent) for the notification itself",
    )

    @model_validator(mode="after")
    def _action_only_when_clicked(self) -> InteractionReport:
        if self.event == "displayed" and self.action is not None:
            raise ValueError("only a clicked event names an action")
        return self


class InteractionResponse(BaseModel):
    """The device's interactions with the notification as recorded (the first of each)."""

    model_config = ConfigDict(defer_build=True)

    notification_id: str
    device_id: str
    displayed_at: str | None
    clicked_at: str | None
    clicked_action: str | None
