"""One slow peer never holds its batch: through the real deliver and receipts handlers, a
device or webhook behind a tarpit costs one outbound deadline and is re-queued, while the
other jobs of the same SQS batch finish on time."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from local.context import LambdaContext
from pushgate import clock
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.devices.addresses import NtfyAddress
from pushgate.devices.service import upsert_device
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept
from pushgate.receipts.models import Receipt, ReceiptMessage
from pushgate.storage.notifications import NotificationRecord
from tests.integration.lambdas import (
    drain,
    fresh_queues,
    load_handler,
    sqs_event,
)
from tests.standins import NtfyStandin
from tests.standins.tarpit import TarpitServer
from tests.standins.webhook import WebhookReceiver

ADMIN = Principal("admin", "ops", "test", frozenset({"push:admin"}))
DEADLINE = 2.0
# What an invocation may spend besides the deadline: the emulator serves one call at a time.
OVERHEAD = 3.0


@pytest.fixture
def queues(pushgate_env, monkeypatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("PUSHGATE_OUTBOUND_DEADLINE_SECONDS", str(DEADLINE))
    monkeypatch.setenv("PUSHGATE_RETRY_BASE_SECONDS", "0.1")  # re-queued without a delay
    yield from fresh_queues(monkeypatch)


@pytest.fixture
def tarpit() -> Iterator[TarpitServer]:
    # Trickles far longer than any test waits: before total deadlines, a send to it lasted
    # `duration` (then the connection dropped), three times over with the quick retries.
    with TarpitServer(interval=0.15, duration=30) as server:
        yield server


def _app(**config) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True, **config))
    return app_id


def _ntfy_device(app_id: str, user: str, url: str) -> str:
    return upsert_device(
        app_id=app_id,
        user_id=user,
        platform="ntfy",
        address=NtfyAddress(url),
        owner="test",
        user_agent=None,
    ).device_id


def _epoch(rfc3339: str) -> float:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def test_deliver_batch_finishes_the_other_jobs_while_a_tarpit_device_times_out_once(queues, tarpit):
    app_id = _app()
    with NtfyStandin() as ntfy:
        users = [f"user-{n}" for n in range(4)]
        slow_device = _ntfy_device(app_id, users[0], f"{tarpit.url}/slow")
        for user in users[1:]:
            _ntfy_device(app_id, user, f"{ntfy.url}/topic-{user}")
        message = MessageContent(title="Hi", body="There")
        notification_ids = accept(app_id, [Recipient(user, message) for user in users])
        jobs = drain(queues["DELIVERY_QUEUE_URL"])
        assert len(jobs) == 4
        handler = load_handler("deliver")

        started_at, started = clock.epoch(), time.monotonic()
        result = handler(sqs_event(jobs), LambdaContext())
        elapsed = time.monotonic() - started

        assert result == {"batchItemFailures": []}
        assert DEADLINE <= elapsed < DEADLINE + OVERHEAD
        assert len(ntfy.delivered()) == 3
    deliveries = {
        notification_id: NotificationRecord.get(notification_id).deliveries.as_dict()
        for notification_id in notification_ids
    }
    slow = deliveries[notification_ids[0]][slow_device]
    assert (slow["status"], slow["error"], slow["attempts"]) == ("queued", "timeout", 1)
    assert _epoch(slow["updated_at"]) >= started_at + DEADLINE
    for notification_id in notification_ids[1:]:
        (entry,) = deliveries[notification_id].values()
        assert (entry["status"], entry["error"], entry["attempts"]) == ("delivered", None, 1)
        # Before the slow one ended (compared with its outcome, not the clock: under load
        # the fast ones took 2.1 s once, still well ahead of the tarpit's timeout).
        assert _epoch(entry["updated_at"]) < _epoch(slow["updated_at"])
    assert len(tarpit.accepted()) == 1  # one deadline, no quick retries
    (retry,) = map(json.loads, drain(queues["DELIVERY_QUEUE_URL"]))
    assert (retry["notification_id"], retry["attempt"], retry["device_ids"]) == (
        notification_ids[0],
        1,
        [slow_device],
    )


def test_receipts_batch_posts_the_others_while_a_tarpit_webhook_times_out_once(queues, tarpit):
    with WebhookReceiver() as receiver:
        fast_app = _app(webhook_url=receiver.new_url())
        slow_app = _app(webhook_url=f"{tarpit.url}/hook")
        receipts = [_receipt(slow_app, 0)] + [_receipt(fast_app, n) for n in range(1, 4)]
        handler = load_handler("receipts")

        started_at, started = clock.epoch(), time.monotonic()
        result = handler(
            sqs_event([ReceiptMessage(receipt=r).model_dump_json() for r in receipts]),
            LambdaContext(),
        )
        elapsed = time.monotonic() - started

        calls = receiver.received()
    assert result == {"batchItemFailures": []}
    assert DEADLINE <= elapsed < DEADLINE + OVERHEAD
    assert sorted(call.json()["device_id"] for call in calls) == [r.device_id for r in receipts[1:]]
    assert all(call.received_at < started_at + DEADLINE for call in calls)
    assert len(tarpit.accepted()) == 1
    (retry,) = map(json.loads, drain(queues["RECEIPT_QUEUE_URL"], wait_seconds=5))
    assert retry["receipt"] == receipts[0].model_dump()
    assert retry["attempt"] == 1
    assert started_at <= retry["first_attempt_at"] < started_at + DEADLINE


def _receipt(app_id: str, n: int) -> Receipt:
    return Receipt(
        notification_id="ntf_" + f"{n:026d}",
        user_id="u",
        device_id="dev_" + f"{n:032d}",
        app_id=app_id,
        platform="ntfy",
        status="delivered",
        error=None,
        timestamp="2026-11-22T06:00:00.000Z",
    )
