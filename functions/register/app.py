"""Register function: end users register devices and list their own; gateway clients (takos
protocol) register and deregister their users' tokens with signed requests."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from pushgate.api import (
    BEARER,
    create_handler,
    create_resolver,
    created_or_ok,
    error_responses,
    ok_responses,
)
from pushgate.devices import service
from pushgate.devices.models import (
    AccountDevicesResponse,
    RegisterDeviceRequest,
    RegisterDeviceResponse,
)
from pushgate.params import CurrentPrincipal, SignatureHeader
from pushgate.takos.models import (
    GatewayRegistration,
    GatewayRegistrationRequest,
    GatewayRegistrationResponse,
)

# Tenants' pages register their users' browsers from their own origins (clients/web).
app = create_resolver(any_origin=True)


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
    body = RegisterDeviceResponse(device_id=registration.device_id)
    return created_or_ok(body, created=registration.created)


@app.get(
    "/account/devices",
    summary="The caller's devices in every app, grouped by app",
    security=BEARER,
    responses=ok_responses(401, 403),
)
def list_account_devices(principal: CurrentPrincipal) -> AccountDevicesResponse:
    return service.list_account_devices(principal)


@app.post(
    "/push/register",
    summary="A gateway client registers or deregisters a user's token (signed request)",
    description="The body is signed with the instance's `registrationPublicKey` from "
    "`https://{domain}/.well-known/takos-push.json` (in X-Push-Signature, or in the body's "
    "`signature` field as takos instances send it); valid for at most 10 minutes; each "
    "nonce once. The token is stored under the instance's tenant and `userId`.",
    responses={
        200: {
            "description": "Registered again, or deregistered",
            "content": {"application/json": {"model": GatewayRegistrationResponse}},
        },
        201: {
            "description": "A new device",
            "content": {"application/json": {"model": GatewayRegistrationResponse}},
        },
        **error_responses(401, 403, 404, 409),
    },
)
def register_from_gateway(
    # Validated here for the 400s and the OpenAPI document; the service verifies the raw
    # body, byte for byte, the way it was signed.
    body: Annotated[GatewayRegistrationRequest, Body()],
    signature: SignatureHeader = None,
) -> Response[GatewayRegistrationResponse]:
    from pushgate.takos import service as takos  # only takos requests pay for it

    raw = (app.current_event.decoded_body or "").encode()
    result = takos.register(takos.SignedRequest(raw, signature))
    registration = GatewayRegistration(
        device_id=result.device_id,
        tenant=result.tenant,
        user_id=result.user_id,
        action=result.action,
    )
    body = GatewayRegistrationResponse(registration=registration)
    return created_or_ok(body, created=result.created)


lambda_handler = create_handler(app)
