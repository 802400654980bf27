"""Unregister function: the owning user or owning app removes a device."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from pushgate.api import (
    BEARER,
    create_handler,
    create_resolver,
    error_responses,
    no_content,
)
from pushgate.devices import service
from pushgate.params import CurrentPrincipal, DeviceIdPath

# pushgate.js's unsubscribe() removes the browser's device from the tenant's page.
app = create_resolver(any_origin=True)


@app.delete(
    "/push/devices/<device_id>",
    summary="Remove a device",
    description="The owning user (user token) or the owning app (service token with "
    "push:send). Anyone else gets 404, as for an unknown id.",
    security=BEARER,
    responses={**no_content("Removed"), **error_responses(401, 404)},
)
def delete_device(device_id: DeviceIdPath, principal: CurrentPrincipal) -> Response[None]:
    service.delete_device(principal, device_id)
    return Response(status_code=204)


lambda_handler = create_handler(app)
