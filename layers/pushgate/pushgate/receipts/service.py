"""Posting receipts: signed, over connections made only to checked addresses, retried for up
to 24 h.

2xx is done; 410 disables the app's webhook (receipts stop until the tenant sets a URL
again); anything else — other statuses, timeouts, connection errors — is retried with
exponential, jittered delays that honour `Retry-After`, re-queued with SQS delays. A receipt
that cannot be delivered within 24 h, or whose webhook resolves to a forbidden address at
connect time, goes to the receipt DLQ with the reason as a message attribute: never lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from pushgate import aws, clock, outbound, retry_policy
from pushgate.apps.secrets import signing_secrets
from pushgate.audit import record_change
from pushgate.observability import logger, metrics
from pushgate.queues import OutgoingMessage, send_all
from pushgate.receipts.models import ReceiptMessage
from pushgate.receipts.signing import sign
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage.apps import App, AppChange, AppExpectation
from pushgate.storage.base import WriteConflictError
from pushgate.urls import UnsafeUrlError, check_outbound_url

RETRY_WINDOW_SECONDS = 24 * 3600


class ReceiptInfrastructureError(Exception):
    """Queueing a retry or a dead letter failed: SQS must redeliver the record."""


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None  # None: no HTTP answer (timeout, connection error)
    reason: str
    retry_after: float | None = None


async def deliver_receipt(message: ReceiptMessage) -> None:
    receipt = message.receipt
    app = await asyncio.to_thread(_load_app, receipt.app_id)
    # A disabled or suspended app still hears how its accepted notifications ended.
    if app is None or not app.webhook_url or app.webhook_disabled_at:
        metrics.add_metric(name="ReceiptsDropped", unit="Count", value=1)
        return
    now = clock.epoch()
    body = receipt.model_dump_json().encode()
    headers = sign(
        receipt.webhook_id(),
        int(now),
        body,
        signing_secrets(app, now),
    )
    try:
        # The URL's form here (https, no credentials); its addresses when connecting.
        check_outbound_url(
            app.webhook_url,
            allow_private=get_settings().allow_private_urls,
            field="webhook_url",
            resolve=False,
        )
        attempt = await _post(app.webhook_url, body, headers)
    except UnsafeUrlError as exc:
        await asyncio.to_thread(_dead_letter, message, exc.message)
        return
    if attempt.status is not None and 200 <= attempt.status < 300:
        metrics.add_metric(name="ReceiptsDelivered", unit="Count", value=1)
    elif attempt.status == 410:
        await asyncio.to_thread(_disable_webhook, app)
    else:
        await asyncio.to_thread(_retry_later, message, attempt, now)


async def _post(url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    """POST within the outbound deadline, the answer read as sent (capped) and ignored.
    Raises `UnsafeUrlError` when the webhook's host resolves to an address that is not
    public."""
    client = outbound.client()
    request = client.build_request(
        "POST",
        url,
        content=body,
        headers={"Content-Type": "application/json", "User-Agent": "pushgate-receipts"} | headers,
    )
    try:
        reply = await outbound.exchange(
            client, request, deadline=get_settings().outbound_deadline_seconds, decode=False
        )
    except httpx.TimeoutException:  # the total deadline included
        return Attempt(None, "timeout")
    except httpx.HTTPError as exc:
        return Attempt(None, type(exc).__name__)
    header = reply.headers.get("retry-after")
    retry_after = retry_policy.parse_retry_after(header, now=clock.epoch())
    return Attempt(reply.status_code, f"http_{reply.status_code}", retry_after)


def _load_app(app_id: str) -> App | None:
    return apps.get(app_id)


def _disable_webhook(app: App) -> None:
    """The receiver said 410 Gone: stop sending until the tenant configures a URL again."""
    change = AppChange(
        assign={
            "webhook_disabled_at": clock.rfc3339(),
            "webhook_disabled_reason": "receiver answered 410 Gone",
        }
    )
    try:  # not if the URL changed meanwhile
        apps.write(app.app_id, change, AppExpectation(equal={"webhook_url": app.webhook_url}))
    except WriteConflictError:
        return
    record_change("app.webhook.disable", principal=None, app_id=app.app_id, fields=["webhook_url"])
    logger.warning("webhook disabled after 410", extra={"app_id": app.app_id})
    metrics.add_metric(name="WebhooksDisabled", unit="Count", value=1)


def _retry_later(message: ReceiptMessage, attempt: Attempt, now: float) -> None:
    first = message.first_attempt_at or now
    base = get_settings().retry_base_seconds
    backoff = retry_policy.backoff(base, message.attempt, retry_after=attempt.retry_after)
    delay = retry_policy.sqs_delay(backoff, at_least=1)
    if now + delay - first > RETRY_WINDOW_SECONDS:
        _dead_letter(message, f"gave up after 24 h; last answer: {attempt.reason}")
        return
    retry = message.model_copy(update={"attempt": message.attempt + 1, "first_attempt_at": first})
    metrics.add_metric(name="ReceiptRetries", unit="Count", value=1)
    failed = send_all(
        get_settings().receipt_queue_url,
        [OutgoingMessage("0", retry.model_dump_json(), delay)],
    )
    if failed:
        raise ReceiptInfrastructureError("could not re-queue a receipt")


def _dead_letter(message: ReceiptMessage, reason: str) -> None:
    logger.error(
        "receipt dead-lettered",
        extra={"app_id": message.receipt.app_id, "reason": reason, "attempt": message.attempt},
    )
    metrics.add_metric(name="ReceiptsDeadLettered", unit="Count", value=1)
    aws.client("sqs").send_message(
        QueueUrl=get_settings().receipt_dlq_url,
        MessageBody=message.model_dump_json(),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
    )
