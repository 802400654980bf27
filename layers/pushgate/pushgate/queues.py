"""SQS helpers: send many messages with SendMessageBatch, ten per call, calls in parallel."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pushgate import aws
from pushgate.observability import logger
from pushgate.retry_policy import MAX_DELAY_SECONDS

SQS_BATCH_LIMIT = 10
_PARALLEL_CALLS = 8
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    id: str  # unique within one send_all call; [A-Za-z0-9_-]{1,80}
    body: str
    delay_seconds: int = 0


def send_all(queue_url: str, messages: Sequence[OutgoingMessage]) -> list[str]:
    """Enqueue `messages`; returns the ids that could not be enqueued after retries."""
    chunks = [
        list(messages[i : i + SQS_BATCH_LIMIT]) for i in range(0, len(messages), SQS_BATCH_LIMIT)
    ]
    if len(chunks) <= 1:
        return [failed for chunk in chunks for failed in _send_chunk(queue_url, chunk)]
    with ThreadPoolExecutor(max_workers=min(_PARALLEL_CALLS, len(chunks))) as pool:
        results = pool.map(lambda chunk: _send_chunk(queue_url, chunk), chunks)
        return [failed for result in results for failed in result]


def _send_chunk(queue_url: str, chunk: list[OutgoingMessage]) -> list[str]:
    pending = {message.id: message for message in chunk}
    for _ in range(_ATTEMPTS):
        entries = [
            {
                "Id": message.id,
                "MessageBody": message.body,
                "DelaySeconds": max(0, min(MAX_DELAY_SECONDS, message.delay_seconds)),
            }
            for message in pending.values()
        ]
        try:
            response = aws.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
        except Exception:  # botocore's client and connection errors alike: retry, then report
            logger.exception("SendMessageBatch failed")
            continue
        for ok in response.get("Successful", []):
            pending.pop(ok["Id"], None)
        if not pending:
            return []
        logger.warning(
            "SendMessageBatch partially failed",
            extra={"failed": [f.get("Code") for f in response.get("Failed", [])]},
        )
    return list(pending)
