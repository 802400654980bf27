"""The outcomes recorded so far of the notifications a deliver batch retries or was given
again, read in one BatchGetItem instead of a GetItem per job.

The jobs of a batch run as tasks of one event loop (`pushgate.worker`) and start together: a
job that needs its notification's outcomes asks here and waits; the read goes out once every
job that got this far in the same turn of the loop has asked (a job that gets there later
starts the next read). A read that fails fails every job waiting on it, as a GetItem of
each would have: SQS gives them out again, and no other job of the batch is held up.
"""

from __future__ import annotations

import asyncio
import weakref

from pushgate.storage import notifications
from pushgate.storage.notifications import Notification

_Waiting = dict[str, list["asyncio.Future[Notification | None]"]]


class NotificationReads:
    """The reads of one event loop (so of one invocation at a time)."""

    def __init__(self) -> None:
        self._waiting: _Waiting = {}
        self._reading: set[asyncio.Task[None]] = set()

    async def get(self, notification_id: str) -> Notification | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Notification | None] = loop.create_future()
        if not self._waiting:
            # After the callbacks already queued: the other jobs that are ready this turn.
            loop.call_soon(self._read_waiting)
        self._waiting.setdefault(notification_id, []).append(future)
        return await future

    def _read_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        task = asyncio.ensure_future(self._read(waiting))
        self._reading.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._reading.discard)

    @staticmethod
    async def _read(waiting: _Waiting) -> None:
        try:
            found = await asyncio.to_thread(notifications.get_many, list(waiting))
        except Exception as error:
            for futures in waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        for notification_id, futures in waiting.items():
            for future in futures:
                if not future.done():
                    future.set_result(found.get(notification_id))


_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, NotificationReads] = (
    weakref.WeakKeyDictionary()
)


async def notification(notification_id: str) -> Notification | None:
    """The notification's item (None while it has none), read with the batch's others."""
    loop = asyncio.get_running_loop()
    reads = _reads.get(loop)
    if reads is None:
        reads = _reads[loop] = NotificationReads()
    return await reads.get(notification_id)
