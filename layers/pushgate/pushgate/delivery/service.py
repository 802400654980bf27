"""Delivering one job: every device of one user, concurrently, each to a final outcome.

The devices are those of the user `(the app's user issuer, job.user_id)`, at most
`max_devices_per_user` of them, most recently seen first; a retry's devices are checked to
still be that user's. Per device the path is: skip if an earlier attempt already reached a
final status (a job can be redelivered after a crash); nothing is sent for an app that is
disabled or suspended (`failed`, `app_disabled`); send with a couple of quick, jittered
retries (none after a timeout, so a device costs at most one send deadline per invocation);
then either a final outcome (delivered, failed, invalid_token, expired) or a re-queued retry
with an exponential delay that never runs past the notification's TTL. Outcomes of one job
are written in one UpdateItem; dead tokens are removed; every final outcome becomes a receipt.
Only infrastructure failures (DynamoDB, SQS, KMS) raise, so SQS retries the job.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from pushgate import clock, retry_policy
from pushgate.delivery import app_keys as keys
from pushgate.delivery import reads
from pushgate.delivery.app_keys import AppKeys
from pushgate.delivery.dispatch import send
from pushgate.delivery.outcomes import (
    FINAL_STATUSES,
    DeviceResult,
    FinalOutcome,
    emit_receipts,
    finish,
    finish_gone,
)
from pushgate.delivery.runtime import Runtime, runtime
from pushgate.delivery.threads import use_delivery_threads
from pushgate.devices.service import open_address, user_devices
from pushgate.notifications.models import DeliveryJob
from pushgate.observability import metrics
from pushgate.providers import Outcome
from pushgate.settings import get_settings
from pushgate.storage import devices as registry
from pushgate.storage.devices import Device

QUICK_TRIES = 3
_QUICK_BACKOFF_SECONDS = 0.25
_QUICK_RETRY_AFTER_LIMIT = 2.0


async def deliver(
    job: DeliveryJob, *, redelivered: bool = False, record_id: str | None = None
) -> list[DeviceResult]:
    """Deliver one job to a final outcome per device (or re-queue what must wait); returns
    the result of each device tried now (none when every device was already final).

    A redelivered job (SQS gave it out again after a failure) skips devices that already
    reached a final outcome and re-emits their receipts, since the failure may have come
    before they were queued; receipts carry a stable id, so the tenant can deduplicate.

    `record_id` is the job's SQS message id: with it, receipts join the invocation's outbox
    (`pushgate.delivery.outbox`) when there is one."""
    # Storage calls are blocking: run them on threads so the records of one batch overlap
    # (threads enough for a whole batch: see pushgate.delivery.threads).
    use_delivery_threads()
    app = await keys.load(job.app_id)
    recorded, devices, gone = await _load(job, app, redelivered)
    previous = recorded or {}
    pending = [
        d for d in devices if previous.get(d.device_id, {}).get("status") not in FINAL_STATUSES
    ]
    if recorded is None:
        gone = []  # nothing was owed to them yet: no outcome to record
    if gone and not pending:  # owed a retry, and no longer the user's (else recorded below)
        await asyncio.to_thread(finish_gone, job, app, record_id, previous, gone)
    if redelivered:
        await asyncio.to_thread(emit_receipts, job, app, record_id, _final_so_far(job, previous))
    if not pending:
        return []
    settings = get_settings()
    rt = runtime()
    results = await asyncio.gather(
        *(
            _deliver_one(
                rt,
                job,
                app,
                device,
                attempts=int(previous.get(device.device_id, {}).get("attempts", 0)),
                max_attempts=settings.max_delivery_attempts,
                retry_base=settings.retry_base_seconds,
            )
            for device in pending
        )
    )
    await asyncio.to_thread(
        functools.partial(
            finish,
            job,
            app,
            record_id,
            results,
            first_record=recorded is None,
            previous=previous,
            gone=gone,
        )
    )
    for result in results:
        metrics.add_metric(
            name=f"Deliveries{(result.final or 'retrying').title().replace('_', '')}",
            unit="Count",
            value=1,
        )
    return results


def _final_so_far(job: DeliveryJob, previous: dict[str, Any]) -> list[FinalOutcome]:
    """The outcomes a redelivered job's devices reached before (their receipts may not have
    been queued: the failure that redelivered it may have come first)."""
    scope = set(job.device_ids) if job.device_ids is not None else set(previous)
    return [
        FinalOutcome(device_id, entry["platform"], entry["status"], entry.get("error"))
        for device_id, entry in previous.items()
        if device_id in scope and entry.get("status") in FINAL_STATUSES
    ]


async def _load(
    job: DeliveryJob, app: AppKeys | None, redelivered: bool
) -> tuple[dict[str, Any] | None, list[Device], list[str]]:
    """(the outcomes recorded so far, None while the notification has no item; the user's
    devices to deliver to; the ids of a retry's devices that are gone or another user's).
    The two reads are in flight together."""
    devices = asyncio.to_thread(_devices, job, app)
    if not (redelivered or job.attempt > 0):  # a first delivery has no earlier outcomes
        return None, *(await devices)
    record, (found, gone) = await asyncio.gather(reads.notification(job.notification_id), devices)
    return (record.deliveries if record is not None else None), found, gone


def _devices(job: DeliveryJob, app: AppKeys | None) -> tuple[list[Device], list[str]]:
    owner = app.user_issuer if app is not None else None
    if job.device_ids is None:
        limit = get_settings().max_devices_per_user
        return user_devices(job.app_id, job.user_id, owner, limit=limit), []
    # A retry names its devices; each must still be this user's (a token registered again by
    # another user moves its device to them, and a removed device is gone).
    found = {
        record.device_id: record
        for record in registry.get_many(job.device_ids)
        if record.app_id == job.app_id
        and record.user_id == job.user_id
        and owner is not None
        and record.owner_issuer == owner
    }
    gone = [device_id for device_id in job.device_ids if device_id not in found]
    return [found[d] for d in job.device_ids if d in found], gone


async def _deliver_one(
    rt: Runtime,
    job: DeliveryJob,
    app: AppKeys | None,
    device: Device,
    *,
    attempts: int,
    max_attempts: int,
    retry_base: float,
) -> DeviceResult:
    address = open_address(device)
    refusal = _refusal(job, app, device, attempts)
    if refusal is not None:
        return refusal
    assert app is not None  # _refusal answers for a missing app
    outcome = Outcome.retry("not_sent")
    for quick in range(QUICK_TRIES):
        async with rt.limit:
            outcome = await send(rt, job, app, address, device.device_id)
        attempts += 1
        # A timed-out device has had its deadline for this invocation: tried again here it
        # would hold the job (and the batch) for another; it waits for the re-queue instead.
        if outcome.status != "retry" or outcome.error == "timeout" or attempts >= max_attempts:
            break
        if outcome.retry_after is not None and outcome.retry_after > _QUICK_RETRY_AFTER_LIMIT:
            break  # not worth waiting for here: the re-queue's delay honours it
        wait = retry_policy.backoff(
            _QUICK_BACKOFF_SECONDS,
            quick,
            retry_after=outcome.retry_after,
            jitter=retry_policy.QUICK_JITTER,
        )
        if quick + 1 < QUICK_TRIES:
            await asyncio.sleep(wait)
    if outcome.status != "retry":
        return DeviceResult(device, outcome, attempts, outcome.status)  # type: ignore[arg-type]
    if attempts >= max_attempts:
        return DeviceResult(device, outcome, attempts, "failed")
    rounds = max(0, attempts // QUICK_TRIES - 1)
    delay = retry_policy.backoff(retry_base, rounds, retry_after=outcome.retry_after)
    if clock.epoch() + delay >= job.expires_at:
        return DeviceResult(device, outcome, attempts, "expired")
    return DeviceResult(device, outcome, attempts, None, delay)


def _refusal(
    job: DeliveryJob, app: AppKeys | None, device: Device, attempts: int
) -> DeviceResult | None:
    """A final outcome reached without sending anything, if there is one."""
    if clock.epoch() >= job.expires_at:
        return DeviceResult(device, Outcome("failed", "ttl_expired"), attempts, "expired")
    if app is None:
        return DeviceResult(device, Outcome.failed("app_deleted"), attempts, "failed")
    if not app.active:
        return DeviceResult(device, Outcome.failed("app_disabled"), attempts, "failed")
    return None
