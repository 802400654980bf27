"""The Counters table: quota and rate-limit counters, each expiring through TTL.

Keys: `quota#<app_id>#<YYYY-MM-DD>` counts an app's notifications for one UTC day;
`regrate#<app_id>#<owner>#<user_id>` holds one user's registrations in the last hour.
(`wellknown#<domain>` items share the table: `pushgate.storage.wellknown`; so do the hourly
delivery outcomes `stats#<app_id>#<hour>`: `pushgate.storage.delivery_stats`. A broadcast's
page reserves its devices in the daily quota inside the transaction that records the page:
`reserve_within`, used by `pushgate.storage.broadcasts`.)
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pushgate import clock
from pushgate.storage.base import table_meta

_RATE_ATTEMPTS = 8


class CounterRecord(Model):
    Meta = table_meta("counters_table_name")

    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


def daily_quota_key(app_id: str, day: str) -> str:
    return f"quota#{app_id}#{day}"


def read_count(key: str) -> int:
    """A counter's current value (0 when it does not exist or has expired)."""
    try:
        return int(CounterRecord.get(key, attributes_to_get=["count"]).count)
    except CounterRecord.DoesNotExist:
        return 0


def read_counts(keys: Iterable[str]) -> dict[str, int]:
    """Several counters' values by key (0 for those that do not exist), one BatchGetItem per
    100 keys."""
    wanted = sorted(set(keys))
    counts = dict.fromkeys(wanted, 0)
    if wanted:
        for record in CounterRecord.batch_get(wanted, attributes_to_get=["counter_key", "count"]):
            counts[record.counter_key] = int(record.count or 0)
    return counts


class RateWindowRecord(Model):
    """A rolling-window rate limit: the accepted hits' timestamps, pruned on each write,
    written under an optimistic version check so concurrent hits cannot both take the last
    slot."""

    Meta = table_meta("counters_table_name")

    counter_key = UnicodeAttribute(hash_key=True)
    hits = ListAttribute(of=NumberAttribute, default=list)
    version = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


def take_rate_slot(key: str, *, limit: int, window_seconds: int) -> int | None:
    """Record one hit if fewer than `limit` fell in the last `window_seconds`.

    Returns None when the hit was recorded, else the seconds until a slot frees up."""
    for _ in range(_RATE_ATTEMPTS):
        now = clock.epoch()
        try:
            record = RateWindowRecord.get(key, consistent_read=True)
            condition = RateWindowRecord.version == record.version
        except RateWindowRecord.DoesNotExist:
            record = RateWindowRecord(key)
            condition = RateWindowRecord.counter_key.does_not_exist()
        recent = sorted(h for h in record.hits if h > now - window_seconds)
        if len(recent) >= limit:
            return max(1, math.ceil(recent[-limit] + window_seconds - now))
        record.hits = [*recent, now]
        record.version = (record.version or 0) + 1
        record.expires_at = int(now) + window_seconds + 60
        try:
            record.save(condition=condition)
            return None
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            time.sleep(random.uniform(0.005, 0.05))  # noqa: S311 - jitter, not crypto
    return 1


def reserve(key: str, amount: int, *, limit: int, expires_at: int) -> bool:
    """Atomically add `amount` to a counter if the result stays within `limit`.

    One conditional UpdateItem: concurrent reservations can never overshoot, and a refused
    reservation changes nothing."""
    if amount > limit:
        return False
    try:
        CounterRecord(key).update(
            actions=[CounterRecord.count.add(amount), CounterRecord.expires_at.set(expires_at)],
            condition=CounterRecord.count.does_not_exist()
            | (CounterRecord.count <= limit - amount),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def reserve_within(
    tx: TransactWrite, key: str, amount: int, *, limit: int, expires_at: int
) -> None:
    """`reserve` as one item of a transaction: the transaction fails (its condition) when the
    counter cannot take `amount` more within `limit`."""
    tx.update(
        CounterRecord(key),
        actions=[CounterRecord.count.add(amount), CounterRecord.expires_at.set(expires_at)],
        condition=CounterRecord.count.does_not_exist() | (CounterRecord.count <= limit - amount),
    )


def release(key: str, amount: int) -> None:
    """Give back part of a reservation (the work it was for never happened)."""
    CounterRecord(key).update(
        actions=[CounterRecord.count.add(-amount)], condition=CounterRecord.count.exists()
    )
