"""Send function: tenants send single, bulk and batch notifications and read their status,
start, read and cancel broadcasts; gateway clients (takos protocol) post signed notification
events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from pushgate.api import BEARER, create_handler, create_resolver, error_responses, ok_responses
from pushgate.broadcasts import service as broadcasts
from pushgate.broadcasts.models import (
    BroadcastRequest,
    BroadcastResponse,
    BroadcastStatusResponse,
)
from pushgate.notifications import service
from pushgate.notifications.idempotency import run_once
from pushgate.notifications.models import (
    BatchSendRequest,
    BulkSendRequest,
    BulkSendResponse,
    MessageContent,
    NotificationStatusResponse,
    SendRequest,
    SendResponse,
)
from pushgate.params import (
    AdminAppId,
    BroadcastIdPath,
    CurrentPrincipal,
    IdempotencyKey,
    NotificationIdPath,
    PushSecretHeader,
    SignatureHeader,
)
from pushgate.takos.models import EventRequest

app = create_resolver()
SEND_RESPONSES = error_responses(401, 403, 409, 413, 422, 429)


def _accepted(body: BaseModel) -> Response:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


def _send(app_id: str, key: str | None, request: BaseModel, operation: Callable[[], Any]) -> Any:
    return run_once(
        app_id=app_id,
        key=key,
        body=request.model_dump(mode="json"),
        operation=operation,
        lambda_context=app.lambda_context,
    )


def _content(request: BaseModel) -> MessageContent:
    return MessageContent.model_validate(
        request.model_dump(include=set(MessageContent.model_fields))
    )


@app.post(
    "/push/send",
    summary="Send a notification to every device of one user",
    security=BEARER,
    responses={
        202: {"description": "Accepted", "content": {"application/json": {"model": SendResponse}}},
        **SEND_RESPONSES,
    },
)
def send(
    body: Annotated[SendRequest, Body()],
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    app_id: AdminAppId = None,
) -> Response[SendResponse]:
    target = service.sending_app(principal, app_id)
    ids = _send(
        target,
        idempotency_key,
        body,
        lambda: service.accept(target, [service.Recipient(body.user_id, _content(body))]),
    )
    return _accepted(SendResponse(notification_id=ids[0]))


@app.post(
    "/push/send/bulk",
    summary="Send one notification to many users (ids returned in user_ids order)",
    security=BEARER,
    responses={
        202: {
            "description": "Accepted",
            "content": {"application/json": {"model": BulkSendResponse}},
        },
        **SEND_RESPONSES,
    },
)
def send_bulk(
    body: Annotated[BulkSendRequest, Body()],
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    app_id: AdminAppId = None,
) -> Response[BulkSendResponse]:
    target = service.sending_app(principal, app_id)
    content = _content(body)
    ids = _send(
        target,
        idempotency_key,
        body,
        lambda: service.accept(target, [service.Recipient(u, content) for u in body.user_ids]),
    )
    return _accepted(BulkSendResponse(notification_ids=ids))


@app.post(
    "/push/send/batch",
    summary="Send different notifications in one request",
    security=BEARER,
    responses={
        202: {
            "description": "Accepted",
            "content": {"application/json": {"model": BulkSendResponse}},
        },
        **SEND_RESPONSES,
    },
)
def send_batch(
    body: Annotated[BatchSendRequest, Body()],
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    app_id: AdminAppId = None,
) -> Response[BulkSendResponse]:
    target = service.sending_app(principal, app_id)
    recipients = [service.Recipient(n.user_id, _content(n)) for n in body.notifications]
    ids = _send(target, idempotency_key, body, lambda: service.accept(target, recipients))
    return _accepted(BulkSendResponse(notification_ids=ids))


@app.get(
    "/push/notifications/<notification_id>",
    summary="A notification's per-device delivery status",
    security=BEARER,
    responses=ok_responses(401, 404),
)
def get_notification(
    notification_id: NotificationIdPath, principal: CurrentPrincipal
) -> NotificationStatusResponse:
    return service.notification_status(principal, notification_id)


@app.post(
    "/push/send/broadcast",
    summary="Send one notification to every device of the app (fanned out page by page)",
    description="Answers at once: a worker reaches the app's devices 500 at a time, each page "
    "counted against the daily quota, until none is left, the quota runs out or it is "
    "cancelled. One broadcast per app at a time (409 `broadcast_running`).",
    security=BEARER,
    responses={
        202: {
            "description": "Accepted",
            "content": {"application/json": {"model": BroadcastResponse}},
        },
        **SEND_RESPONSES,
    },
)
def send_broadcast(
    body: Annotated[BroadcastRequest, Body()],
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    app_id: AdminAppId = None,
) -> Response[BroadcastResponse]:
    target = service.sending_app(principal, app_id)
    broadcast_id = _send(
        target, idempotency_key, body, lambda: broadcasts.start(principal, target, body)
    )
    return _accepted(BroadcastResponse(broadcast_id=broadcast_id))


@app.get(
    "/push/broadcasts/<broadcast_id>",
    summary="A broadcast's progress: devices reached and their outcomes",
    security=BEARER,
    responses=ok_responses(401, 403, 404),
)
def get_broadcast(
    broadcast_id: BroadcastIdPath, principal: CurrentPrincipal
) -> BroadcastStatusResponse:
    return broadcasts.status(principal, broadcast_id)


@app.delete(
    "/push/broadcasts/<broadcast_id>",
    summary="Cancel a running broadcast at its next page (pages queued still deliver)",
    security=BEARER,
    responses=ok_responses(401, 403, 404, 409),
)
def cancel_broadcast(
    broadcast_id: BroadcastIdPath, principal: CurrentPrincipal
) -> BroadcastStatusResponse:
    return broadcasts.cancel(principal, broadcast_id)


GATEWAY_EVENT_RESPONSES: dict = {
    200: {
        "description": "A takos event seen before: the notification it became, nothing sent",
        "content": {"application/json": {"model": SendResponse}},
    },
    202: {"description": "Accepted", "content": {"application/json": {"model": SendResponse}}},
    **error_responses(401, 403, 404, 409, 413, 429),
}


@app.post(
    "/push/webhook",
    summary="A gateway client posts a notification event for one of its users (signed)",
    description="Signed with the well-known `webhook.publicKey` (else `registrationPublicKey`). "
    "pushgate's envelope (`title`, `body`, ..., valid for at most 10 minutes, each nonce once) "
    "or a takos instance's event (`notification`, at most 10 minutes old, each id once). Sent "
    "like /push/send under the instance's quota; `POST /internal/push/events` is an alias.",
    responses=GATEWAY_EVENT_RESPONSES,
)
@app.post(
    "/internal/push/events",
    summary="Alias of POST /push/webhook (where takos instances post)",
    responses=GATEWAY_EVENT_RESPONSES,
)
def post_gateway_event(
    # Validated here for the 400s and the OpenAPI document; the service verifies the raw
    # body, byte for byte, the way it was signed.
    body: Annotated[EventRequest, Body()],
    signature: SignatureHeader = None,
    push_secret: PushSecretHeader = None,
) -> Response[SendResponse]:
    from pushgate.takos import service as takos  # only takos requests pay for it

    raw = (app.current_event.decoded_body or "").encode()
    result = takos.post_event(takos.SignedRequest(raw, signature, push_secret))
    answer = SendResponse(notification_id=result.notification_id)
    if result.replayed:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=answer)
    return _accepted(answer)


lambda_handler = create_handler(app)
