"""The Broadcasts table: one item per broadcast, and one lock item per app while one runs.

Keys: `brd_<ulid>` a broadcast (its app, message, platforms, status, `total`, `reached`, the
pages committed and queued, the outcome counts); `running#<app_id>` the app's lock: which
broadcast runs and until when its lease holds. A broadcast starts by putting both in one
transaction (the lock only when absent or its lease ran out); each page renews the lease in
the transaction that commits it (with the page's quota reservation in the Counters table),
and the page that ends the broadcast deletes the lock in it. Broadcasts are kept 30 days
(TTL `expires_at`); a lock nobody released expires with its lease and is removed by TTL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from pushgate.storage import counters
from pushgate.storage.base import conditional, is_condition_failure, table_meta, transaction

RETENTION_SECONDS = 30 * 86_400
OUTCOMES = ("delivered", "failed", "invalid_token", "expired")
Status = Literal["running", "finished", "cancelled", "quota_exhausted"]
CommitResult = Literal["committed", "quota", "stale", "lease_lost"]


class BroadcastRecord(Model):
    """A broadcast (storage only: everything else sees `Broadcast`)."""

    Meta = table_meta("broadcasts_table_name")

    broadcast_key = UnicodeAttribute(hash_key=True)  # the broadcast id
    app_id = UnicodeAttribute()
    message = UnicodeAttribute()  # JSON: the MessageContent every device gets
    platforms = ListAttribute(of=UnicodeAttribute, null=True)
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    total = NumberAttribute()
    reached = NumberAttribute(default=0)
    pages = NumberAttribute(default=0)  # pages committed (quota reserved, reached counted)
    queued = NumberAttribute(default=0)  # pages whose jobs and next page are queued
    last_take = NumberAttribute(default=0)  # devices the last committed page reached
    delivered = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    invalid_token = NumberAttribute(null=True)
    expired = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    lease_until = NumberAttribute()
    expires_at = NumberAttribute()


class BroadcastLockRecord(Model):
    """An app's running broadcast (storage only)."""

    Meta = table_meta("broadcasts_table_name")

    broadcast_key = UnicodeAttribute(hash_key=True)  # running#<app_id>
    broadcast_id = UnicodeAttribute()
    lease_until = NumberAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True, slots=True)
class Broadcast:
    broadcast_id: str
    app_id: str
    message: dict
    platforms: tuple[str, ...] | None
    status: Status
    reason: str | None
    total: int
    reached: int
    pages: int
    queued: int
    last_take: int
    outcomes: dict[str, int]
    created_at: str
    finished_at: str | None
    lease_until: float


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a page takes from the app's daily quota (`pushgate.storage.counters`)."""

    key: str
    amount: int
    limit: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Ending:
    status: Status
    reason: str | None
    at: str


def lock_key(app_id: str) -> str:
    return f"running#{app_id}"


def _broadcast(record: BroadcastRecord) -> Broadcast:
    return Broadcast(
        broadcast_id=record.broadcast_key,
        app_id=record.app_id,
        message=json.loads(record.message),
        platforms=tuple(record.platforms) if record.platforms is not None else None,
        status=record.status,  # type: ignore[arg-type]
        reason=record.reason,
        total=int(record.total),
        reached=int(record.reached or 0),
        pages=int(record.pages or 0),
        queued=int(record.queued or 0),
        last_take=int(record.last_take or 0),
        outcomes={outcome: int(getattr(record, outcome) or 0) for outcome in OUTCOMES},
        created_at=record.created_at,
        finished_at=record.finished_at,
        lease_until=float(record.lease_until),
    )


def get(broadcast_id: str) -> Broadcast | None:
    try:
        return _broadcast(BroadcastRecord.get(broadcast_id, consistent_read=True))
    except BroadcastRecord.DoesNotExist:
        return None


def running_of(app_id: str) -> tuple[str, float] | None:
    """(the broadcast holding the app's lock, its lease's end), None when none does."""
    try:
        lock = BroadcastLockRecord.get(lock_key(app_id), consistent_read=True)
    except BroadcastLockRecord.DoesNotExist:
        return None
    return lock.broadcast_id, float(lock.lease_until)


def start(broadcast: Broadcast, *, now: float) -> bool:
    """Put the broadcast and take its app's lock, together; False (nothing written) while
    another broadcast of the app holds a lease that has not run out at `now`."""
    lock = BroadcastLockRecord(
        lock_key(broadcast.app_id),
        broadcast_id=broadcast.broadcast_id,
        lease_until=broadcast.lease_until,
        expires_at=int(broadcast.lease_until) + 86_400,
    )
    record = BroadcastRecord(
        broadcast.broadcast_id,
        app_id=broadcast.app_id,
        message=json.dumps(broadcast.message, separators=(",", ":")),
        platforms=list(broadcast.platforms) if broadcast.platforms is not None else None,
        status=broadcast.status,
        total=broadcast.total,
        reached=0,
        pages=0,
        queued=0,
        last_take=0,
        created_at=broadcast.created_at,
        lease_until=broadcast.lease_until,
        expires_at=int(now) + RETENTION_SECONDS,
    )

    def put_both() -> None:
        with transaction() as tx:
            tx.save(
                lock,
                condition=BroadcastLockRecord.broadcast_key.does_not_exist()
                | (BroadcastLockRecord.lease_until < now),
            )
            tx.save(record, condition=BroadcastRecord.broadcast_key.does_not_exist())

    return conditional(put_both)


def delete(broadcast_id: str, app_id: str) -> None:
    """Undo a start whose first page could not be queued."""
    with transaction() as tx:
        tx.delete(BroadcastRecord(broadcast_id))
        tx.delete(
            BroadcastLockRecord(lock_key(app_id)),
            condition=BroadcastLockRecord.broadcast_id == broadcast_id,
        )


def commit_page(
    broadcast: Broadcast,
    *,
    page: int,
    take: int,
    lease_until: float,
    reservation: Reservation | None,
    ending: Ending | None,
) -> CommitResult:
    """Record page `page` as processed, in one transaction: its devices' quota reserved,
    `reached` counted, the lease renewed (or, with `ending`, the broadcast ended and the lock
    released). Only once: `stale` when the page was committed already (or the broadcast
    stopped), `quota` when the quota cannot take `reservation`, `lease_lost` when another
    broadcast took the app's lock."""
    actions = [
        BroadcastRecord.pages.set(page + 1),
        BroadcastRecord.reached.add(take),
        BroadcastRecord.last_take.set(take),
        BroadcastRecord.lease_until.set(lease_until),
    ]
    if ending is not None:
        actions += [
            BroadcastRecord.status.set(ending.status),
            BroadcastRecord.finished_at.set(ending.at),
            BroadcastRecord.reason.set(ending.reason)
            if ending.reason is not None
            else BroadcastRecord.reason.remove(),
        ]
    lock = BroadcastLockRecord(lock_key(broadcast.app_id))
    holds = BroadcastLockRecord.broadcast_id == broadcast.broadcast_id
    try:
        with transaction() as tx:
            if reservation is not None:
                counters.reserve_within(
                    tx,
                    reservation.key,
                    reservation.amount,
                    limit=reservation.limit,
                    expires_at=reservation.expires_at,
                )
            tx.update(
                BroadcastRecord(broadcast.broadcast_id),
                actions=actions,
                condition=(BroadcastRecord.pages == page) & (BroadcastRecord.status == "running"),
            )
            if ending is not None:
                tx.delete(lock, condition=holds)
            else:
                tx.update(
                    lock,
                    actions=[
                        BroadcastLockRecord.lease_until.set(lease_until),
                        BroadcastLockRecord.expires_at.set(int(lease_until) + 86_400),
                    ],
                    condition=holds,
                )
    except PynamoDBException as exc:
        if not is_condition_failure(exc):
            raise
        failed = [
            index
            for index, reason in enumerate(getattr(exc, "cancellation_reasons", None) or [])
            if reason is not None and reason.code == "ConditionalCheckFailed"
        ]
        offset = 1 if reservation is not None else 0
        if offset + 1 in failed:
            return "lease_lost"
        if offset in failed:
            return "stale"
        return "quota"
    return "committed"


def mark_queued(broadcast_id: str, page: int) -> bool:
    """Page `page`'s jobs and the page after it are queued (once: False if recorded)."""
    return conditional(
        lambda: BroadcastRecord(broadcast_id).update(
            actions=[BroadcastRecord.queued.set(page + 1)],
            condition=BroadcastRecord.queued == page,
        )
    )


def end(broadcast: Broadcast, ending: Ending) -> bool:
    """End a running broadcast (cancelled, or stopped by its worker) and release its app's
    lock if it still holds it. False when it was no longer running."""
    ended = conditional(
        lambda: BroadcastRecord(broadcast.broadcast_id).update(
            actions=[
                BroadcastRecord.status.set(ending.status),
                BroadcastRecord.finished_at.set(ending.at),
                BroadcastRecord.reason.set(ending.reason)
                if ending.reason is not None
                else BroadcastRecord.reason.remove(),
            ],
            condition=BroadcastRecord.status == "running",
        )
    )
    release_lock(broadcast.app_id, broadcast.broadcast_id)
    return ended


def release_lock(app_id: str, broadcast_id: str) -> None:
    """Delete the app's lock if `broadcast_id` holds it (nothing otherwise)."""
    conditional(
        lambda: BroadcastLockRecord(lock_key(app_id)).delete(
            condition=BroadcastLockRecord.broadcast_id == broadcast_id
        )
    )


def add_outcomes(broadcast_id: str, counts: Mapping[str, int]) -> bool:
    """Add final outcomes (outcome -> number) to the broadcast in one UpdateItem. False when
    the write failed or the broadcast is gone: counts are best effort."""
    actions = [
        getattr(BroadcastRecord, outcome).add(number)
        for outcome, number in sorted(counts.items())
        if outcome in OUTCOMES and number
    ]
    if not actions:
        return True
    try:
        BroadcastRecord(broadcast_id).update(
            actions=actions, condition=BroadcastRecord.broadcast_key.exists()
        )
    except PynamoDBException:
        return False
    return True
