"""Receipts of one deliver invocation, queued together when its batch is done.

Each job's receipts used to go out in a SendMessageBatch of their own: a user with two
devices made one SQS request for two messages, and ten such jobs ten requests. Collected per
invocation they fill batches of ten (a fifth of the requests for two-device users), and the
jobs no longer wait on SQS before they finish.

Order and loss: a job adds its receipts after its outcomes are written (so a receipt never
precedes its status). The outbox is flushed after every record of the batch was handled; a
record whose receipts cannot be queued is reported as a batch item failure, so SQS gives its
job out again and the redelivered job re-emits the receipts of every final device (receipts
carry a stable webhook id: tenants deduplicate). An invocation that dies before the flush
(crash, timeout) is redelivered whole, to the same effect.

The batch's other after-batch writes (its delivery statistics, `pushgate.delivery.tally`)
are deferred to the flush and run beside it, so the invocation waits for the slowest of them
rather than for each in turn.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pushgate.observability import logger
from pushgate.queues import OutgoingMessage, send_all
from pushgate.settings import get_settings

Handler = Callable[[dict[str, Any], Any], Any]


class ReceiptOutbox:
    """Receipt messages by the SQS record (job) they belong to."""

    def __init__(self) -> None:
        self._messages: list[tuple[str, str]] = []  # (record id, body)
        self._deferred: list[Callable[[], None]] = []
        self._lock = threading.Lock()  # jobs add from worker threads

    def add(self, record_id: str, bodies: list[str]) -> None:
        with self._lock:
            self._messages.extend((record_id, body) for body in bodies)

    def defer(self, work: Callable[[], None]) -> None:
        """Run `work` (one after-batch write) during the flush, beside the receipts."""
        with self._lock:
            self._deferred.append(work)

    def flush(self, queue_url: str) -> set[str]:
        """Queue everything added, and run the deferred work meanwhile; returns the record ids
        with a receipt that could not be queued. What deferred work raised is raised once
        the receipts are queued."""
        with self._lock:
            messages, self._messages = self._messages, []
            deferred, self._deferred = self._deferred, []
        if not deferred:
            return self._queue(queue_url, messages)
        with ThreadPoolExecutor(max_workers=len(deferred)) as pool:
            running = [pool.submit(contextvars.copy_context().run, work) for work in deferred]
            unqueued = self._queue(queue_url, messages)
        for work in running:
            work.result()
        return unqueued

    @staticmethod
    def _queue(queue_url: str, messages: list[tuple[str, str]]) -> set[str]:
        if not messages:
            return set()
        failed = send_all(
            queue_url,
            [OutgoingMessage(str(index), body) for index, (_, body) in enumerate(messages)],
        )
        return {messages[int(index)][0] for index in failed}


_current: contextvars.ContextVar[ReceiptOutbox | None] = contextvars.ContextVar(
    "pushgate_receipt_outbox", default=None
)


def current() -> ReceiptOutbox | None:
    """The outbox of the invocation in progress, or None (receipts are then sent at once)."""
    return _current.get()


def collecting_receipts(handler: Handler) -> Handler:
    """Wraps an SQS batch handler: its records' receipts go out together after the batch,
    and records whose receipts could not be queued join the batch item failures."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        outbox = ReceiptOutbox()
        token = _current.set(outbox)
        try:
            response = handler(event, context)
        finally:
            _current.reset(token)
        failures = response.setdefault("batchItemFailures", [])
        already = {failure["itemIdentifier"] for failure in failures}
        unqueued = outbox.flush(get_settings().receipt_queue_url) - already
        if unqueued:
            logger.error(
                "receipts could not be queued; their jobs go back to SQS",
                extra={"records": len(unqueued)},
            )
        failures.extend({"itemIdentifier": record_id} for record_id in sorted(unqueued))
        return response

    return wrapper
