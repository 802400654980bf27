"""The hourly delivery statistics (`GET /push/stats/{app_id}`) of one deliver invocation,
written together when its batch is done: one atomic ADD per app, however many of the batch's
jobs were that app's (a batch of ten jobs of one app is one write, not ten); and the same for
broadcasts (`GET /push/broadcasts/{id}`): one ADD per broadcast the batch's jobs belong to.

Every count is of a final outcome reached in this invocation (a redelivered job's devices that
were already final are not tried again, so they are not counted twice). All counts of an
invocation go to the UTC hour it finished in. A write that fails is logged and dropped: the
deliveries and their receipts stand, and failing the batch would not bring the counts back
(the redelivered jobs' devices are final by then, so they are skipped).

Under the receipt outbox (`pushgate.delivery.outbox`, the deliver function) each of these
writes runs during the outbox's flush, beside the receipts' SendMessageBatch calls and the
other writes; without one they run together, here. A handler that raised has its counts
written here all the same (the outbox is not flushed then).
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pushgate import clock
from pushgate.delivery import outbox
from pushgate.observability import logger
from pushgate.storage import broadcasts, delivery_stats

Handler = Callable[[dict[str, Any], Any], Any]


class OutcomeTally:
    """Final outcomes by app and by broadcast, as the jobs of one invocation reach them."""

    def __init__(self) -> None:
        self._counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._broadcasts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()  # jobs add from worker threads

    def add(self, app_id: str, statuses: Iterable[str], broadcast_id: str | None = None) -> None:
        statuses = list(statuses)
        with self._lock:
            self._counts[app_id].update(statuses)
            if broadcast_id is not None:
                self._broadcasts[broadcast_id].update(statuses)

    def take(self) -> dict[str, Counter[str]]:
        """The apps' counts, taken off."""
        with self._lock:
            counts, self._counts = dict(self._counts), defaultdict(Counter)
        return counts

    def take_broadcasts(self) -> dict[str, Counter[str]]:
        """The broadcasts' counts, taken off."""
        with self._lock:
            counts, self._broadcasts = dict(self._broadcasts), defaultdict(Counter)
        return counts


_current: contextvars.ContextVar[OutcomeTally | None] = contextvars.ContextVar(
    "pushgate_outcome_tally", default=None
)


def count_outcomes(
    app_id: str, statuses: Iterable[str], *, broadcast_id: str | None = None
) -> None:
    """Count final outcomes of the app (and of the broadcast the job fans out, if any): into
    the invocation's tally when there is one, else written at once."""
    statuses = list(statuses)
    if not statuses:
        return
    tally = _current.get()
    if tally is not None:
        tally.add(app_id, statuses, broadcast_id)
        return
    write({app_id: Counter(statuses)})
    if broadcast_id is not None:
        write_broadcasts({broadcast_id: Counter(statuses)})


def write(counts: dict[str, Counter[str]]) -> None:
    """One ADD per app into the current UTC hour."""
    _run(_app_writes(counts))


def write_broadcasts(counts: dict[str, Counter[str]]) -> None:
    """One ADD per broadcast."""
    _run(_broadcast_writes(counts))


def _app_writes(counts: dict[str, Counter[str]]) -> list[Callable[[], None]]:
    hour_start = clock.hour_start()
    hour = clock.utc_hour(hour_start)
    expires_at = hour_start + 3600 + delivery_stats.RETENTION_SECONDS

    def add(app_id: str, outcomes: Counter[str]) -> None:
        if not delivery_stats.add(app_id, hour, outcomes, expires_at=expires_at):
            logger.error(
                "delivery statistics could not be written; these counts are lost",
                extra={"app_id": app_id, "outcomes": sum(outcomes.values())},
            )

    return [functools.partial(add, app_id, outcomes) for app_id, outcomes in sorted(counts.items())]


def _broadcast_writes(counts: dict[str, Counter[str]]) -> list[Callable[[], None]]:
    def add(broadcast_id: str, outcomes: Counter[str]) -> None:
        if not broadcasts.add_outcomes(broadcast_id, outcomes):
            logger.error(
                "broadcast counts could not be written; these counts are lost",
                extra={"broadcast_id": broadcast_id, "outcomes": sum(outcomes.values())},
            )

    return [functools.partial(add, key, outcomes) for key, outcomes in sorted(counts.items())]


def _run(writes: list[Callable[[], None]]) -> None:
    """The writes (one UpdateItem each) together, on threads when there are several."""
    if len(writes) <= 1:
        for work in writes:
            work()
        return
    with ThreadPoolExecutor(max_workers=min(len(writes), 16)) as pool:
        for done in [pool.submit(work) for work in writes]:
            done.result()


def _writes_of(tally: OutcomeTally) -> list[Callable[[], None]]:
    return _app_writes(tally.take()) + _broadcast_writes(tally.take_broadcasts())


def tallying_outcomes(handler: Handler) -> Handler:
    """Wraps an SQS batch handler: the outcomes its records reach are counted together and
    written after the batch (also when the handler raised); inside `collecting_receipts`,
    during its flush."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        tally = OutcomeTally()
        token = _current.set(tally)
        try:
            response = handler(event, context)
        except BaseException:
            _current.reset(token)
            _run(_writes_of(tally))
            raise
        _current.reset(token)
        writes = _writes_of(tally)
        collecting = outbox.current()
        if collecting is None:
            _run(writes)
        else:
            for work in writes:
                collecting.defer(work)
        return response

    return wrapper
