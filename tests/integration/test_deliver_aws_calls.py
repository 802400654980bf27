"""What one deliver invocation asks of AWS, counted at botocore (every client's calls go
through `BaseClient._make_api_call`): a batch of ten jobs, two devices each, reads its app
once, queries each user's devices once, writes each notification's outcomes once and its
statistics once, and queues its twenty receipts in two SendMessageBatch calls; the queries
are in flight together, and so are the outcome writes; a job whose write fails fails alone."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from local.context import LambdaContext
from pushgate import clock, sealing
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.devices.addresses import NtfyAddress
from pushgate.devices.service import upsert_device
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept
from pushgate.storage import delivery_stats
from pushgate.storage.devices import DeviceRecord
from pushgate.storage.notifications import NotificationRecord
from tests.integration.lambdas import drain, fresh_queues, load_handler, sqs_event
from tests.standins import NtfyStandin
from tests.standins.webhook import WebhookReceiver

ADMIN = Principal("admin", "ops", "test", frozenset({"push:admin"}))
JOBS = 10
DEVICES = 2
# The local stack's SQS pollers run in this process: their calls are not the handler's.
_POLLER_OPERATIONS = {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"}


class Calls:
    """The AWS calls made while recording, with a hook run before each one is sent."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str, dict[str, Any]]] = []
        self.recording = False
        self.before: Any = None
        self._lock = threading.Lock()

    def counts(self) -> Counter[str]:
        return Counter(f"{service}:{operation}" for service, operation, _ in self.made)


@pytest.fixture
def calls(monkeypatch) -> Calls:
    recorded = Calls()
    original = BaseClient._make_api_call

    def make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if recorded.recording and operation_name not in _POLLER_OPERATIONS:
            service = self.meta.service_model.endpoint_prefix
            with recorded._lock:
                recorded.made.append((service, operation_name, api_params))
            if recorded.before is not None:
                recorded.before(service, operation_name, api_params)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    return recorded


@pytest.fixture
def queues(pushgate_env, monkeypatch) -> Iterator[dict[str, str]]:
    yield from fresh_queues(monkeypatch)


@pytest.fixture
def batch(queues) -> Iterator[dict[str, Any]]:
    """Ten jobs of one app (with a webhook) for ten users with two ntfy devices each, taken
    off the delivery queue, and the app's outcomes read back."""
    with NtfyStandin() as ntfy, WebhookReceiver() as webhook:
        app_id = f"app-{uuid.uuid4().hex[:12]}"
        update_app_config(
            ADMIN,
            app_id,
            AppConfigPatchRequest(enabled=True, webhook_url=webhook.new_url()),
        )
        users = [f"user-{n}" for n in range(JOBS)]
        for user in users:
            for device in range(DEVICES):
                upsert_device(
                    app_id=app_id,
                    user_id=user,
                    platform="ntfy",
                    address=NtfyAddress(f"{ntfy.url}/topic-{user}-{device}"),
                    owner="test",
                    user_agent=None,
                )
        message = MessageContent(title="Hi", body="There")
        notification_ids = accept(app_id, [Recipient(user, message) for user in users])
        jobs = drain(queues["DELIVERY_QUEUE_URL"])
        assert len(jobs) == JOBS
        yield {
            "app_id": app_id,
            "notification_ids": notification_ids,
            "event": sqs_event(jobs),
            "ntfy": ntfy,
        }


def _together(operation: str, count: int) -> Any:
    """A hook that holds each `operation` call until `count` of them are in flight (so the
    handler must issue them together: with fewer threads it never gets that far)."""
    barrier = threading.Barrier(count, timeout=10)

    def before(service: str, operation_name: str, params: dict[str, Any]) -> None:
        if operation_name == operation:
            barrier.wait()

    return before


def test_a_batch_of_ten_jobs_reads_its_app_once_and_queries_each_user_once(calls, batch):
    handler = load_handler("deliver")
    sealing.get_cipher.cache_clear()  # a cold container: no data key unwrapped yet

    calls.recording = True
    result = handler(batch["event"], LambdaContext())
    calls.recording = False

    assert result == {"batchItemFailures": []}
    counts = calls.counts()
    assert {name: n for name, n in counts.items() if not name.startswith("kms:")} == {
        "dynamodb:GetItem": 1,  # the app, for all ten jobs
        "dynamodb:Query": JOBS,  # each user's devices (a GSI: one query per user)
        "dynamodb:PutItem": JOBS,  # each notification's outcomes
        "dynamodb:UpdateItem": 1,  # the app's hourly statistics, for all twenty outcomes
        "sqs:SendMessageBatch": 2,  # twenty receipts, ten per call
    }
    # The data key that seals the app's VAPID key and the devices' addresses is unwrapped
    # once, not once per job.
    assert {name: n for name, n in counts.items() if name.startswith("kms:")} == {"kms:Decrypt": 1}
    receipts = [params for _, operation, params in calls.made if operation == "SendMessageBatch"]
    assert sorted(len(params["Entries"]) for params in receipts) == [10, 10]
    assert len(batch["ntfy"].delivered()) == JOBS * DEVICES


def test_the_batch_queries_its_users_together_and_writes_its_outcomes_together(calls, batch):
    handler = load_handler("deliver")
    hooks = [_together("Query", JOBS), _together("PutItem", JOBS)]

    def both(*args: Any) -> None:
        for hook in hooks:
            hook(*args)

    calls.before = both
    calls.recording = True
    result = handler(batch["event"], LambdaContext())
    calls.recording = False

    assert result == {"batchItemFailures": []}
    for notification_id in batch["notification_ids"]:
        deliveries = NotificationRecord.get(notification_id).deliveries.as_dict()
        assert sorted(entry["status"] for entry in deliveries.values()) == ["delivered"] * 2


def test_a_job_whose_outcome_write_fails_fails_alone(calls, batch):
    handler = load_handler("deliver")
    doomed = batch["notification_ids"][3]
    doomed_record = batch["event"]["Records"][3]["messageId"]

    def before(service: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "PutItem" and params["Item"]["notification_id"]["S"] == doomed:
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation
            )

    calls.before = before
    calls.recording = True
    result = handler(batch["event"], LambdaContext())
    calls.recording = False

    assert result == {"batchItemFailures": [{"itemIdentifier": doomed_record}]}
    receipts = [params for _, operation, params in calls.made if operation == "SendMessageBatch"]
    queued = [entry for params in receipts for entry in params["Entries"]]
    assert len(queued) == (JOBS - 1) * DEVICES
    assert not any(doomed in entry["MessageBody"] for entry in queued)
    for notification_id in batch["notification_ids"]:
        if notification_id == doomed:
            with pytest.raises(NotificationRecord.DoesNotExist):
                NotificationRecord.get(notification_id)
            continue
        deliveries = NotificationRecord.get(notification_id).deliveries.as_dict()
        assert sorted(entry["status"] for entry in deliveries.values()) == ["delivered"] * 2
    stats = delivery_stats.read(batch["app_id"], [_this_hour()])
    assert stats == {_this_hour(): {"delivered": 18, "failed": 0, "invalid_token": 0, "expired": 0}}


def _this_hour() -> str:
    return clock.utc_hour(clock.hour_start())


def test_a_retry_reads_its_notification_and_devices_together_and_writes_them_once(calls, queues):
    with NtfyStandin() as ntfy, WebhookReceiver() as webhook:
        app_id = f"app-{uuid.uuid4().hex[:12]}"
        update_app_config(
            ADMIN, app_id, AppConfigPatchRequest(enabled=True, webhook_url=webhook.new_url())
        )
        kept, moved = (
            upsert_device(
                app_id=app_id,
                user_id="alice",
                platform="ntfy",
                address=NtfyAddress(f"{ntfy.url}/topic-{n}"),
                owner="test",
                user_agent=None,
            ).device_id
            for n in range(2)
        )
        (notification_id,) = accept(
            app_id, [Recipient("alice", MessageContent(title="t", body="b"))]
        )
        (first,) = drain(queues["DELIVERY_QUEUE_URL"])
        now = clock.rfc3339()
        queued = {"platform": "ntfy", "status": "queued", "error": "ntfy:503", "attempts": 3}
        NotificationRecord(
            notification_id,
            app_id=app_id,
            user_id="alice",
            created_at=now,
            expires_at=int(clock.epoch()) + 600,
            deliveries={kept: queued | {"updated_at": now}, moved: queued | {"updated_at": now}},
        ).save()
        DeviceRecord(moved).update(actions=[DeviceRecord.user_id.set("bob")])
        retry = json.loads(first) | {"attempt": 1, "device_ids": [kept, moved]}
        handler = load_handler("deliver")

        calls.before = _together("BatchGetItem", 2)
        calls.recording = True
        result = handler(sqs_event([json.dumps(retry)]), LambdaContext())
        calls.recording = False

        assert result == {"batchItemFailures": []}
        assert len(ntfy.delivered()) == 1
    counts = calls.counts()
    assert {name: n for name, n in counts.items() if not name.startswith("kms:")} == {
        "dynamodb:GetItem": 1,  # the app
        "dynamodb:BatchGetItem": 2,  # the notification's outcomes so far; the retry's devices
        "dynamodb:UpdateItem": 2,  # both devices' outcomes in one; the hourly statistics
        "sqs:SendMessageBatch": 1,  # both receipts
    }
    deliveries = NotificationRecord.get(notification_id).deliveries.as_dict()
    assert {device: (e["status"], e["error"]) for device, e in deliveries.items()} == {
        kept: ("delivered", None),
        moved: ("failed", "device_gone"),
    }


def test_a_batch_given_out_again_reads_its_notifications_in_one_batch_get(calls, batch):
    handler = load_handler("deliver")
    for record in batch["event"]["Records"]:
        record["attributes"]["ApproximateReceiveCount"] = "2"

    calls.recording = True
    result = handler(batch["event"], LambdaContext())
    calls.recording = False

    assert result == {"batchItemFailures": []}
    counts = calls.counts()
    assert {name: n for name, n in counts.items() if not name.startswith("kms:")} == {
        "dynamodb:GetItem": 1,
        "dynamodb:BatchGetItem": 1,  # the ten notifications' outcomes so far (none yet)
        "dynamodb:Query": JOBS,
        "dynamodb:PutItem": JOBS,
        "dynamodb:UpdateItem": 1,
        "sqs:SendMessageBatch": 2,
    }
    (read,) = [params for _, operation, params in calls.made if operation == "BatchGetItem"]
    (keys,) = [request["Keys"] for request in read["RequestItems"].values()]
    assert sorted(key["notification_id"]["S"] for key in keys) == sorted(batch["notification_ids"])
