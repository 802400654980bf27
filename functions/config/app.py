"""Config function: per-app push configuration, the public VAPID key, the operators' lists of
apps and gateway instances, an app's delivery statistics, and the enrolment of gateway
instances (takos protocol)."""

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
    no_content,
    ok_responses,
)
from pushgate.apps import listing, service, stats
from pushgate.apps.models import (
    AppConfigPatchRequest,
    AppConfigResponse,
    AppsPageResponse,
    AppStatsResponse,
    VapidPublicKeyResponse,
    WebhookSecretRotationResponse,
)
from pushgate.devices import service as devices
from pushgate.devices.models import AppDevicesResponse
from pushgate.params import (
    AppIdPath,
    CurrentPrincipal,
    Cursor,
    InstancePath,
    PageLimit,
    StatsHours,
)
from pushgate.takos import instances
from pushgate.takos.models import InstancePutRequest, InstanceResponse, InstancesPageResponse

# Browsers fetch the VAPID public key from tenants' pages (a simple GET: no preflight). The
# other routes send bearer tokens, so a page elsewhere gets no preflight answer for them.
app = create_resolver(any_origin=True)


@app.patch(
    "/push/config/<app_id>",
    summary="Create or update an app's push configuration",
    description="Creates the app on first call; the first enable provisions a VAPID keypair "
    "and a webhook secret. Admin token, or the app's own service token with push:config.",
    security=BEARER,
    responses=ok_responses(401, 403, 409),
)
def patch_config(
    app_id: AppIdPath,
    body: Annotated[AppConfigPatchRequest, Body()],
    principal: CurrentPrincipal,
) -> AppConfigResponse:
    return service.update_app_config(principal, app_id, body)


@app.get(
    "/push/apps",
    summary="Page through every app with its usage (admin)",
    description="In the table's order (stable, not alphabetical); `next_cursor` is null on "
    "the last page.",
    security=BEARER,
    responses=ok_responses(401, 403),
)
def list_apps(
    principal: CurrentPrincipal, limit: PageLimit = 25, cursor: Cursor = None
) -> AppsPageResponse:
    return listing.list_apps(principal, limit=limit, cursor=cursor)


@app.get(
    "/push/stats/<app_id>",
    summary="An app's delivery outcomes per UTC hour, the current hour last",
    description="Exactly `hours` entries, zeros where nothing ended. Admin token, or the "
    "app's own service token with push:config.",
    security=BEARER,
    responses=ok_responses(401, 403, 404),
)
def get_app_stats(
    app_id: AppIdPath, principal: CurrentPrincipal, hours: StatsHours = 24
) -> AppStatsResponse:
    return stats.app_stats(principal, app_id, hours=hours)


@app.get(
    "/push/config/<app_id>",
    summary="Read an app's push configuration",
    security=BEARER,
    responses=ok_responses(401, 403, 404),
)
def get_config(app_id: AppIdPath, principal: CurrentPrincipal) -> AppConfigResponse:
    return service.get_app_config(principal, app_id)


@app.post(
    "/push/config/<app_id>/webhook-secret/rotate",
    summary="Rotate the webhook secret (the old one keeps signing, alongside, for 24 h)",
    security=BEARER,
    responses=ok_responses(401, 403, 404, 409),
)
def rotate_webhook_secret(
    app_id: AppIdPath, principal: CurrentPrincipal
) -> WebhookSecretRotationResponse:
    return service.rotate_webhook_secret(principal, app_id)


@app.get(
    "/push/vapid-public-key/<app_id>",
    summary="The app's VAPID public key, for browsers to subscribe with (no auth)",
    responses=ok_responses(404),
)
def get_vapid_public_key(app_id: AppIdPath) -> VapidPublicKeyResponse:
    return VapidPublicKeyResponse(publicKey=service.get_public_vapid_key(app_id))


@app.get(
    "/push/devices/<app_id>",
    summary="Page through an app's devices (never their tokens)",
    security=BEARER,
    responses=ok_responses(401, 403, 404),
)
def list_app_devices(
    app_id: AppIdPath, principal: CurrentPrincipal, limit: PageLimit = 50, cursor: Cursor = None
) -> AppDevicesResponse:
    return devices.list_app_devices(principal, app_id, limit=limit, cursor=cursor)


@app.get(
    "/push/instances",
    summary="Page through every gateway instance's enrolment (admin)",
    security=BEARER,
    responses=ok_responses(401, 403),
)
def list_instances(
    principal: CurrentPrincipal, limit: PageLimit = 25, cursor: Cursor = None
) -> InstancesPageResponse:
    return instances.list_instances(principal, limit=limit, cursor=cursor)


@app.put(
    "/push/instances/<instance>",
    summary="Enrol a gateway instance, or replace its enrolment (admin)",
    description="The instance then registers tokens and posts events with requests signed "
    "by the keys it publishes at `https://{domain}/.well-known/takos-push.json`.",
    security=BEARER,
    responses={
        200: {
            "description": "The enrolment was replaced",
            "content": {"application/json": {"model": InstanceResponse}},
        },
        201: {
            "description": "The instance is enrolled",
            "content": {"application/json": {"model": InstanceResponse}},
        },
        **error_responses(401, 403),
    },
)
def put_instance(
    instance: InstancePath,
    body: Annotated[InstancePutRequest, Body()],
    principal: CurrentPrincipal,
) -> Response[InstanceResponse]:
    enrolment, created = instances.put_instance(principal, instance, body)
    return created_or_ok(enrolment, created=created)


@app.get(
    "/push/instances/<instance>",
    summary="A gateway instance's enrolment, tenant app and usage (admin)",
    security=BEARER,
    responses=ok_responses(401, 403, 404),
)
def get_instance(instance: InstancePath, principal: CurrentPrincipal) -> InstanceResponse:
    return instances.get_instance(principal, instance)


@app.delete(
    "/push/instances/<instance>",
    summary="Remove a gateway instance's enrolment and disable its tenant app (admin)",
    security=BEARER,
    responses={**no_content("Removed"), **error_responses(401, 403, 404)},
)
def delete_instance(instance: InstancePath, principal: CurrentPrincipal) -> Response[None]:
    instances.delete_instance(principal, instance)
    return Response(status_code=204)


lambda_handler = create_handler(app)
