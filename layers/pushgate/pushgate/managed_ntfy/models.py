"""API models of the managed ntfy routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NtfyChannelResponse(BaseModel):
    """What the user subscribes with in the ntfy app: the server, the topic, and the account
    that may read it (shown again on request: it reads this one topic and nothing else)."""

    model_config = ConfigDict(defer_build=True)

    device_id: str = Field(description="The channel's device, as in GET /account/devices")
    server_url: str
    topic: str = Field(description="Random, at least 128 bits; readable only with this account")
    topic_url: str
    username: str
    password: str
    created_at: str
