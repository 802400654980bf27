"""What one job's delivery leaves behind, in order: dead devices dropped, outcomes recorded
(and counted in the app's hourly statistics), waiting devices re-queued, then receipts queued,
so a status that reads final is the whole truth. Only infrastructure failures (DynamoDB, SQS)
raise, so SQS retries the job.

Each step's calls go together: the dead devices' deletes at once, and a retry's devices
that are gone in the same UpdateItem as the outcomes of those it tried (one write per item).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pushgate import clock
from pushgate.delivery import outbox
from pushgate.delivery.app_keys import AppKeys
from pushgate.delivery.tally import count_outcomes
from pushgate.devices.service import remove_device
from pushgate.notifications.models import DeliveryJob, FinalStatus
from pushgate.observability import logger, metrics
from pushgate.providers import Outcome
from pushgate.queues import OutgoingMessage, send_all
from pushgate.receipts.models import Receipt, ReceiptMessage
from pushgate.retry_policy import sqs_delay
from pushgate.settings import get_settings
from pushgate.storage import notifications
from pushgate.storage.devices import Device
from pushgate.storage.notifications import RETENTION_SECONDS

FINAL_STATUSES = frozenset({"delivered", "failed", "invalid_token", "expired"})


class DeliveryInfrastructureError(Exception):
    """Storage or queueing failed: the job must be retried by SQS."""


@dataclass(frozen=True, slots=True)
class DeviceResult:
    device: Device
    outcome: Outcome
    attempts: int
    final: FinalStatus | None  # None: retry later
    retry_delay: float = 0.0


@dataclass(frozen=True, slots=True)
class FinalOutcome:
    device_id: str
    platform: str
    status: str
    error: str | None


def finish(
    job: DeliveryJob,
    app: AppKeys | None,
    record_id: str | None,
    results: list[DeviceResult],
    *,
    first_record: bool,
    previous: dict[str, Any] | None = None,
    gone: list[str] | None = None,
) -> None:
    """Drop dead devices, record (and count) outcomes, re-queue what waits, then queue
    receipts (in that order, so a status that reads final is the whole truth). `gone`: a
    retry's devices that are no longer the user's, recorded with the others (see
    `finish_gone`; `previous` holds their earlier entries)."""
    _remove_dead([r.device for r in results if r.final == "invalid_token"])
    gone_outcomes = _gone_outcomes(previous or {}, gone or [])
    _record(
        job,
        results,
        first_record=first_record,
        extra=_gone_entries(previous or {}, gone_outcomes),
    )
    count_outcomes(
        job.app_id,
        [o.status for o in gone_outcomes] + [r.final for r in results if r.final is not None],
        broadcast_id=job.broadcast_id,
    )
    _requeue(job, [r for r in results if r.final is None])
    emit_receipts(
        job,
        app,
        record_id,
        gone_outcomes
        + [
            FinalOutcome(r.device.device_id, r.device.platform, r.final, _error(r))
            for r in results
            if r.final is not None
        ],
    )


def finish_gone(
    job: DeliveryJob,
    app: AppKeys | None,
    record_id: str | None,
    previous: dict[str, Any],
    gone: list[str],
) -> None:
    """A retry's devices that are no longer the user's end as `failed` (`device_gone`)
    instead of staying queued; their receipts go out like any other outcome. (When the
    retry also tries some of its devices, `finish` records these with them.)"""
    outcomes = _gone_outcomes(previous, gone)
    if not outcomes:
        return
    notifications.update_outcomes(job.notification_id, _gone_entries(previous, outcomes))
    count_outcomes(job.app_id, (o.status for o in outcomes), broadcast_id=job.broadcast_id)
    emit_receipts(job, app, record_id, outcomes)


def _gone_outcomes(previous: dict[str, Any], gone: list[str]) -> list[FinalOutcome]:
    """The final outcomes owed for `gone` devices (none for those already final)."""
    return [
        FinalOutcome(d, previous.get(d, {}).get("platform", "unknown"), "failed", "device_gone")
        for d in gone
        if previous.get(d, {}).get("status") not in FINAL_STATUSES
    ]


def _gone_entries(
    previous: dict[str, Any], outcomes: list[FinalOutcome]
) -> dict[str, dict[str, Any]]:
    now = clock.rfc3339()
    return {
        o.device_id: {
            "platform": o.platform,
            "status": o.status,
            "error": o.error,
            "attempts": int(previous.get(o.device_id, {}).get("attempts", 0)),
            "updated_at": now,
        }
        for o in outcomes
    }


def _remove_dead(devices: list[Device]) -> None:
    """Delete the dead devices (a transaction each), together; raises if any delete failed,
    once all of them are done."""
    if len(devices) <= 1:
        for device in devices:
            remove_device(device)
        return
    with ThreadPoolExecutor(max_workers=min(len(devices), 10)) as pool:
        done = [pool.submit(remove_device, device) for device in devices]
    for removal in done:
        removal.result()


def _error(result: DeviceResult) -> str | None:
    return None if result.final == "delivered" else result.outcome.error


def _record(
    job: DeliveryJob,
    results: list[DeviceResult],
    *,
    first_record: bool,
    extra: dict[str, dict[str, Any]] | None = None,
) -> None:
    """The notification's first outcomes put its item (until then its status is read from
    the send request's item); later ones update their entries (`extra`: more entries, for
    devices not tried)."""
    now = clock.rfc3339()
    entries = (extra or {}) | {
        r.device.device_id: {
            "platform": r.device.platform,
            "status": r.final or "queued",
            "error": _error(r),
            "attempts": r.attempts,
            "updated_at": now,
        }
        for r in results
    }
    if first_record:
        notifications.put_outcomes(
            job.notification_id,
            app_id=job.app_id,
            user_id=job.user_id,
            created_at=clock.rfc3339(job.created_at),
            expires_at=int(job.created_at) + RETENTION_SECONDS,
            deliveries=entries,
        )
        return
    notifications.update_outcomes(job.notification_id, entries)


def _requeue(job: DeliveryJob, waiting: list[DeviceResult]) -> None:
    if not waiting:
        return
    delay = sqs_delay(min(r.retry_delay for r in waiting))
    retry = job.model_copy(
        update={"attempt": job.attempt + 1, "device_ids": [r.device.device_id for r in waiting]}
    )
    failed = send_all(
        get_settings().delivery_queue_url,
        [OutgoingMessage("0", retry.model_dump_json(exclude_none=True), delay)],
    )
    if failed:
        raise DeliveryInfrastructureError("could not re-queue a retry")


def emit_receipts(
    job: DeliveryJob, app: AppKeys | None, record_id: str | None, receipts: list[FinalOutcome]
) -> None:
    """Queue one receipt per final outcome, for apps with an active webhook (apps without
    one, such as gateway instances, have their outcomes on the notification only): into the
    invocation's outbox when there is one, else at once."""
    if not receipts or not job.receipts:
        return
    if app is None or not app.wants_receipts:
        metrics.add_metric(name="ReceiptsDropped", unit="Count", value=len(receipts))
        return
    timestamp = clock.rfc3339()
    bodies = [
        ReceiptMessage(
            receipt=Receipt(
                notification_id=job.notification_id,
                user_id=job.user_id,
                device_id=receipt.device_id,
                app_id=job.app_id,
                platform=receipt.platform,
                status=receipt.status,
                error=receipt.error,
                timestamp=timestamp,
            )
        ).model_dump_json()
        for receipt in receipts
    ]
    collecting = outbox.current()
    if collecting is not None and record_id is not None:
        collecting.add(record_id, bodies)
        return
    messages = [OutgoingMessage(str(index), body) for index, body in enumerate(bodies)]
    failed = send_all(get_settings().receipt_queue_url, messages)
    if failed:
        logger.error("receipts could not be queued", extra={"count": len(failed)})
        raise DeliveryInfrastructureError("could not queue receipts")
