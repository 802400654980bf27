"""API models of the device registry."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pushgate.apps.models import APP_ID_PATTERN, not_instance_tenant
from pushgate.devices.addresses import Platform

DEVICE_ID_PATTERN = r"^dev_[a-z2-7]{32}$"


class RegisterDeviceRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    app_id: Annotated[str, AfterValidator(not_instance_tenant)] = Field(pattern=APP_ID_PATTERN)
    platform: Platform
    push_token: str | dict[str, Any] = Field(
        description="FCM registration token; or for web a Web Push subscription "
        "`{endpoint, keys: {p256dh, auth}}` (object or JSON string, keys optional); "
        'or for ntfy `{"url": "https://server/topic", "token"?}`'
    )
    user_agent: str | None = Field(None, max_length=512)


class RegisterDeviceResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    device_id: str


class Device(BaseModel):
    model_config = ConfigDict(defer_build=True)

    device_id: str
    user_id: str
    platform: Platform
    created_at: str
    last_seen_at: str


class AppDevicesResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    devices: list[Device]
    total: int = Field(description="The app's device count (a maintained counter)")
    next_cursor: str | None


class AccountApp(BaseModel):
    model_config = ConfigDict(defer_build=True)

    app_id: str
    devices: list[Device]


class AccountDevicesResponse(BaseModel):
    model_config = ConfigDict(defer_build=True)

    apps: list[AccountApp]
