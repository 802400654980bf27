"""SQS event source mapping rules: the event shape, partial batch failures, deletions."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from local.errors import FunctionTimeoutError
from local.pollers import SqsPoller, build_sqs_event, failed_message_ids
from local.template import SqsEventSource

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"


def _message(message_id: str, body: str = "hello") -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": body,
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {
            "kind": {"DataType": "String", "StringValue": "test"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        "MD5OfMessageAttributes": "md5-attrs",
    }


def test_sqs_event_uses_lambda_record_shape() -> None:
    (record,) = build_sqs_event([_message("m1")], QUEUE_ARN, "us-east-1")["Records"]
    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh-m1",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
        "messageAttributes": {
            "kind": {
                "stringValue": "test",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "blob": {
                "binaryValue": "AAE=",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfMessageAttributes": "md5-attrs",
        "md5OfBody": "md5",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": "b"}, {"a", "b"}),
        ("not a dict", {"a", "b"}),
    ],
)
def test_failed_message_ids_follows_lambda_rules(result: Any, failed: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"]) == failed


class _FakeSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.deleted += [entry["ReceiptHandle"] for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def _poller(invoke: Any, *, report_failures: bool = True) -> SqsPoller:
    source = SqsEventSource(
        function_id="Worker", queue_arn=QUEUE_ARN, report_batch_item_failures=report_failures
    )
    return SqsPoller(
        source, queue_url="http://q", invoke=invoke, client=_FakeSqs, region="us-east-1"
    )


def test_poller_deletes_all_but_reported_failures() -> None:
    sqs = _FakeSqs()
    messages = [_message(f"m{index}") for index in range(12)]
    poller = _poller(lambda event: {"batchItemFailures": [{"itemIdentifier": "m3"}]})
    poller._process(sqs, messages)
    assert sorted(sqs.deleted) == sorted(f"rh-m{index}" for index in range(12) if index != 3)


def test_poller_ignores_failures_without_report_batch_item_failures() -> None:
    sqs = _FakeSqs()
    poller = _poller(
        lambda event: {"batchItemFailures": [{"itemIdentifier": "m1"}]}, report_failures=False
    )
    poller._process(sqs, [_message("m1"), _message("m2")])
    assert sorted(sqs.deleted) == ["rh-m1", "rh-m2"]


def test_poller_deletes_nothing_when_the_invocation_fails() -> None:
    def time_out(event: Any) -> Any:
        raise FunctionTimeoutError("Worker", "Sandbox.Timedout", "Task timed out")

    sqs = _FakeSqs()
    _poller(time_out)._process(sqs, [_message("m1")])
    assert sqs.deleted == []


class _ScriptedSqs:
    """Receives answer `batches` in turn, then nothing; records which thread asked."""

    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self._batches = list(batches)
        self.receivers: list[str] = []
        self.deleted: list[str] = []
        self.changed = threading.Condition()

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        with self.changed:
            self.receivers.append(threading.current_thread().name)
            self.changed.notify_all()
            batch = self._batches.pop(0) if self._batches else []
        if not batch:
            time.sleep(0.01)  # an empty long poll returns after a while
        return {"Messages": batch}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict:
        self.deleted += [entry["ReceiptHandle"] for entry in Entries]
        return {"Failed": []}

    def wait_for(self, predicate: Any) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.receivers), timeout=30)


def _scaling_poller(sqs: _ScriptedSqs) -> SqsPoller:
    source = SqsEventSource(function_id="Worker", queue_arn=QUEUE_ARN, batch_size=10)
    return SqsPoller(
        source,
        queue_url="http://q",
        invoke=lambda event: None,
        client=lambda: sqs,
        region="us-east-1",
        concurrency=3,
    )


def test_poller_polls_an_idle_queue_with_one_thread() -> None:
    sqs = _ScriptedSqs([])
    poller = _scaling_poller(sqs)
    poller.start()
    try:
        assert sqs.wait_for(lambda receivers: len(receivers) >= 5)
    finally:
        poller.stop()
    assert set(sqs.receivers) == {"sqs-Worker-0"}


def test_poller_scales_out_once_the_queue_has_messages() -> None:
    sqs = _ScriptedSqs([[_message("m1")]])
    poller = _scaling_poller(sqs)
    poller.start()
    try:
        assert sqs.wait_for(lambda receivers: len(set(receivers)) == 3)
    finally:
        poller.stop()
    assert sqs.deleted == ["rh-m1"]
