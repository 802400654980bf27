"""SQS event source mappings: threads that poll a queue, invoke the function with Lambda's
SQS event, and delete what the function reports as done."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from local.errors import InvocationError
from local.template import SqsEventSource

__all__ = ["SqsPoller", "build_sqs_event", "failed_message_ids"]

logger = logging.getLogger(__name__)

Invoke = Callable[[Any], Any]
ClientFactory = Callable[[], Any]

# A short long-poll so stopping the stack never waits long for a receive to return.
_WAIT_SECONDS = 1
_RECEIVE_MAX = 10


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS message attribute in the shape Lambda's SQS event uses (camelCase, base64)."""
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [
            base64.b64encode(item).decode() for item in value.get("BinaryListValues") or []
        ],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def build_sqs_event(
    messages: Sequence[dict[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """Lambda's SQS event for messages as boto3's `receive_message` returns them."""
    records = []
    for message in messages:
        attributes = {key: str(value) for key, value in (message.get("Attributes") or {}).items()}
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {
                    name: _lambda_attribute(value)
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
                "md5OfBody": message.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, message_ids: Sequence[str]) -> set[str]:
    """Message ids a ReportBatchItemFailures response marks as failed. Lambda treats a
    response it cannot read, or one naming a message not in the batch, as a failed batch."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(message_ids)
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class SqsPoller:
    """`concurrency` threads feeding one queue to one function, with its batch settings."""

    def __init__(
        self,
        source: SqsEventSource,
        *,
        queue_url: str,
        invoke: Invoke,
        client: ClientFactory,
        region: str,
        concurrency: int = 2,
    ) -> None:
        self.source = source
        self.queue_url = queue_url
        self._invoke = invoke
        self._client = client
        self._region = region
        self._concurrency = max(1, concurrency)
        self._stopping = threading.Event()
        # Set while the queue has work: the first thread always polls, the others (Lambda's
        # scaled-out batches) only from when it gets messages until one of them finds the
        # queue empty, so an idle stack does not keep `concurrency` long polls going.
        self._busy = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self._concurrency):
            thread = threading.Thread(
                target=self._run,
                args=(index == 0,),
                name=f"sqs-{self.source.function_id}-{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def request_stop(self) -> None:
        """Asks the threads to finish their current batch and stop polling."""
        self._stopping.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def _run(self, first: bool) -> None:
        client = self._client()
        while not self._stopping.is_set():
            if not first and not self._busy.wait(_WAIT_SECONDS):
                continue
            try:
                messages = self._receive_batch(client)
                if messages:
                    self._busy.set()
                    self._process(client, messages)
                elif not first:
                    self._busy.clear()
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("poller for %s failed; retrying", self.source.function_id)
                self._stopping.wait(1)

    def _receive(self, client: Any, count: int, wait: float) -> list[dict[str, Any]]:
        response = client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(_RECEIVE_MAX, count)),
            WaitTimeSeconds=max(0, min(_WAIT_SECONDS, int(wait))),
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages") or [])

    def _receive_batch(self, client: Any) -> list[dict[str, Any]]:
        """Up to BatchSize messages, gathering for MaximumBatchingWindowInSeconds."""
        batch_size = self.source.batch_size
        messages = self._receive(client, batch_size, _WAIT_SECONDS)
        if not messages or self.source.batching_window <= 0:
            return messages
        deadline = time.monotonic() + self.source.batching_window
        while len(messages) < batch_size and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(client, batch_size - len(messages), remaining)
            if not more:
                self._stopping.wait(min(0.1, remaining))
            messages += more
        return messages

    def _process(self, client: Any, messages: list[dict[str, Any]]) -> None:
        event = build_sqs_event(messages, self.source.queue_arn, self._region)
        try:
            result = self._invoke(event)
        except InvocationError as exc:
            # Like Lambda: a failed invocation deletes nothing; the messages come back after
            # their visibility timeout and the queue's redrive policy applies.
            logger.warning("%s failed on %d message(s): %s", exc.function_id, len(messages), exc)
            return
        message_ids = [message["MessageId"] for message in messages]
        failed = (
            failed_message_ids(result, message_ids)
            if self.source.report_batch_item_failures
            else set()
        )
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), _RECEIVE_MAX):
            chunk = done[start : start + _RECEIVE_MAX]
            response = client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed") or []:
                logger.warning("could not delete a message: %s", failure.get("Message"))
