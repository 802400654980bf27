"""Approvals function: tenants ask one of their users to approve or deny something (a push
with buttons on each of the user's devices) and wait for the answer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query

# Creating an approval reads the user's devices: loaded while the function initialises, not
# on its first request (the timeout and decision functions never load it).
import pushgate.devices.service  # noqa: F401
from pushgate.api import BEARER, create_handler, create_resolver, created_or_ok, error_responses
from pushgate.approvals import service
from pushgate.approvals.models import (
    ApprovalCreatedResponse,
    ApprovalRequest,
    ApprovalStatusResponse,
)
from pushgate.notifications.idempotency import run_once
from pushgate.params import AdminAppId, ApprovalIdPath, CurrentPrincipal, IdempotencyKey

app = create_resolver()
WaitSeconds = Annotated[
    float,
    Query(
        ge=0,
        le=service.MAX_WAIT_SECONDS,
        description="Hold the request until the approval is decided or expires, at most this "
        "many seconds (API Gateway ends requests at 30 s)",
    ),
]


@app.post(
    "/push/approvals",
    summary="Ask a user to approve or deny: a push with buttons to each of their devices",
    description="The app's `push:send` token (admins add `?app_id=`). Counts 1 against the "
    "daily quota; a user without devices is denied at once (`reason: no_devices`, not "
    "counted). No decision within `timeout_seconds`: `expired`, which reads as denied.",
    security=BEARER,
    responses={
        201: {
            "description": "Asked (or denied at once)",
            "content": {"application/json": {"model": ApprovalCreatedResponse}},
        },
        **error_responses(401, 403, 409, 413, 422, 429, 503),
    },
)
def create_approval(
    body: Annotated[ApprovalRequest, Body()],
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    app_id: AdminAppId = None,
):
    target = service.sending_app(principal, app_id)
    created = run_once(
        app_id=target,
        # Its own keys: the same key on a send is another request.
        key=None if idempotency_key is None else f"approval:{idempotency_key}",
        body=body.model_dump(mode="json"),
        operation=lambda: service.create(principal, body, target).model_dump(mode="json"),
        lambda_context=app.lambda_context,
    )
    return created_or_ok(ApprovalCreatedResponse.model_validate(created), created=True)


@app.get(
    "/push/approvals/<approval_id>",
    summary="An approval's status; with ?wait=, as soon as it is decided or expires",
    description="The owning app's `push:send` token, or admin.",
    security=BEARER,
    responses={
        200: {
            "description": "The approval",
            "content": {"application/json": {"model": ApprovalStatusResponse}},
        },
        **error_responses(401, 404),
    },
)
def get_approval(
    approval_id: ApprovalIdPath, principal: CurrentPrincipal, wait: WaitSeconds = 0
) -> ApprovalStatusResponse:
    return service.status(principal, approval_id, wait=wait)


lambda_handler = create_handler(app)
