"""Ntfy function: a user's managed private ntfy channel in an app: made, shown, tested,
removed (the deployment's ntfy server, through its admin API)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types

from pushgate.api import (
    BEARER,
    create_handler,
    create_resolver,
    created_or_ok,
    error_responses,
    no_content,
)
from pushgate.managed_ntfy import service
from pushgate.managed_ntfy.models import NtfyChannelResponse
from pushgate.notifications.models import SendResponse
from pushgate.params import AppIdPath, CurrentPrincipal

app = create_resolver()
CHANNEL = {"application/json": {"model": NtfyChannelResponse}}
WHO_MAY_CALL = (
    "User token whose `aud` has the app, of the app's user issuer. 404 `ntfy_not_configured` "
    "when the deployment has no ntfy server."
)


@app.post(
    "/push/ntfy/<app_id>",
    summary="Make the caller's private ntfy channel (201), or return it as it is (200)",
    description="An ntfy account with a random username and password, a random topic only it "
    "may read, and the topic registered as the caller's device. " + WHO_MAY_CALL,
    security=BEARER,
    responses={
        200: {"description": "The channel the caller has", "content": CHANNEL},
        201: {"description": "A new channel", "content": CHANNEL},
        **error_responses(401, 403, 404, 429, 503),
    },
)
def enable_channel(app_id: AppIdPath, principal: CurrentPrincipal) -> Response[NtfyChannelResponse]:
    channel, created = service.enable(principal, app_id)
    return created_or_ok(channel, created=created)


@app.get(
    "/push/ntfy/<app_id>",
    summary="The caller's private ntfy channel, with its credentials",
    description=WHO_MAY_CALL,
    security=BEARER,
    responses={
        200: {"description": "The channel", "content": CHANNEL},
        **error_responses(401, 403, 404),
    },
)
def get_channel(app_id: AppIdPath, principal: CurrentPrincipal) -> NtfyChannelResponse:
    return service.get(principal, app_id)


@app.post(
    "/push/ntfy/<app_id>/test",
    summary="Send a test notification to the caller's private ntfy channel",
    description="Counted against the app's daily quota. " + WHO_MAY_CALL,
    security=BEARER,
    responses={
        202: {"description": "Accepted", "content": {"application/json": {"model": SendResponse}}},
        **error_responses(401, 403, 404, 429, 503),
    },
)
def test_channel(app_id: AppIdPath, principal: CurrentPrincipal) -> Response[SendResponse]:
    notification_id = service.test(principal, app_id)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=SendResponse(notification_id=notification_id),
    )


@app.delete(
    "/push/ntfy/<app_id>",
    summary="Remove the caller's private ntfy channel: its grant, its account, its device",
    description=WHO_MAY_CALL,
    security=BEARER,
    responses={**no_content("Removed"), **error_responses(401, 403, 404, 503)},
)
def disable_channel(app_id: AppIdPath, principal: CurrentPrincipal) -> Response[None]:
    service.disable(principal, app_id)
    return Response(status_code=204)


lambda_handler = create_handler(app)
