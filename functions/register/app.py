"""Register function: end users register devices and list their own."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body

from pushgate.api import BEARER, create_handler, create_resolver, error_responses
from pushgate.auth import Principal, current_principal
from pushgate.devices import service
from pushgate.devices.models import (
    AccountDevicesResponse,
    RegisterDeviceRequest,
    RegisterDeviceResponse,
)

app = create_resolver()
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@app.post(
    "/push/devices/register",
    summary="Register a device (201 new, 200 when the same token registers again)",
    description="User token whose `aud` contains the app id. 10 registrations per user per "
    "app per rolling hour.",
    security=BEARER,
    responses={
        200: {
            "description": "The token was already registered: the same device id",
            "content": {"application/json": {"model": RegisterDeviceResponse}},
        },
        201: {
            "description": "A new device",
            "content": {"application/json": {"model": RegisterDeviceResponse}},
        },
        **error_responses(401, 403, 409, 429),
    },
)
def register_device(
    body: Annotated[RegisterDeviceRequest, Body()], principal: CurrentPrincipal
) -> Response[RegisterDeviceResponse]:
    registration = service.register_device(principal, body)
    return Response(
        status_code=201 if registration.created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=RegisterDeviceResponse(device_id=registration.device_id),
    )


@app.get(
    "/account/devices",
    summary="The caller's devices in every app, grouped by app",
    security=BEARER,
    responses=error_responses(401, 403),
)
def list_account_devices(principal: CurrentPrincipal) -> AccountDevicesResponse:
    return service.list_account_devices(principal)


lambda_handler = create_handler(app)
