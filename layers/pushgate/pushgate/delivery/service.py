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
import random
from dataclasses import dataclass
from typing import Any

from pushgate import clock
from pushgate.apps import secrets
from pushgate.crypto import VapidKey
from pushgate.delivery import faults, outbox
from pushgate.delivery.runtime import Runtime, default_fcm_account, runtime
from pushgate.devices.addresses import FcmAddress, NtfyAddress, PushAddress, WebPushAddress
from pushgate.devices.service import open_address, remove_device, user_devices
from pushgate.notifications.models import DeliveryJob, FinalStatus
from pushgate.observability import logger, metrics
from pushgate.policy import trust_of
from pushgate.providers import FcmMessage, Outcome, ServiceAccount
from pushgate.queues import MAX_DELAY_SECONDS, OutgoingMessage, send_all
from pushgate.receipts.models import Receipt, ReceiptMessage
from pushgate.settings import get_settings
from pushgate.storage import apps, notifications
from pushgate.storage import devices as registry
from pushgate.storage.devices import Device
from pushgate.storage.notifications import RETENTION_SECONDS

FINAL_STATUSES = frozenset({"delivered", "failed", "invalid_token", "expired"})
QUICK_TRIES = 3
_QUICK_BACKOFF_SECONDS = 0.25
_QUICK_RETRY_AFTER_LIMIT = 2.0
# How long a container trusts what it read of an app: a disable, a suspension or a new
# webhook takes effect within this.
_APP_CACHE_SECONDS = 5.0


class DeliveryInfrastructureError(Exception):
    """Storage or queueing failed: the job must be retried by SQS."""


@dataclass(frozen=True, slots=True)
class AppKeys:
    """What delivery needs of an app, cached briefly per container."""

    app_id: str
    active: bool  # enabled and not suspended: anything else is sent nothing
    user_issuer: str | None  # whose users the job's user_id names
    wants_receipts: bool  # a webhook is configured and active
    vapid_key: VapidKey | None
    vapid_subject: str | None  # None: neither the app nor the deployment names one
    fcm_account: ServiceAccount | None
    loaded_at: float


_apps: dict[str, AppKeys] = {}


def _app_keys(app_id: str) -> AppKeys | None:
    cached = _apps.get(app_id)
    if cached is not None and clock.epoch() - cached.loaded_at < _APP_CACHE_SECONDS:
        return cached
    record = apps.get(app_id)
    if record is None:
        return None
    vapid = None
    if record.vapid_private_key_sealed:
        vapid = VapidKey.load(secrets.open_vapid_key(app_id, record.vapid_private_key_sealed))
    account = default_fcm_account()
    if record.fcm_service_account_sealed:
        sealed = record.fcm_service_account_sealed
        account = ServiceAccount.parse(secrets.open_fcm_account(app_id, sealed))
    trust = trust_of(record)
    keys = AppKeys(
        app_id,
        trust.enabled and not trust.suspended,
        trust.user_issuer,
        bool(record.webhook_url) and not record.webhook_disabled_at,
        vapid,
        record.vapid_subject or get_settings().default_vapid_subject,
        account,
        clock.epoch(),
    )
    _apps[app_id] = keys
    return keys


@dataclass(frozen=True, slots=True)
class DeviceResult:
    device: Device
    outcome: Outcome
    attempts: int
    final: FinalStatus | None  # None: retry later
    retry_delay: float = 0.0


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
    # Storage calls are blocking: run them on threads so the records of one batch overlap.
    app = await asyncio.to_thread(_app_keys, job.app_id)
    recorded, devices, gone = await asyncio.to_thread(_load, job, app, redelivered)
    previous = recorded or {}
    pending = [
        d for d in devices if previous.get(d.device_id, {}).get("status") not in FINAL_STATUSES
    ]
    if gone:
        await asyncio.to_thread(_finish_gone, job, app, record_id, previous, gone)
    if redelivered:
        scope = set(job.device_ids) if job.device_ids is not None else set(previous)
        await asyncio.to_thread(
            _emit_receipts,
            job,
            app,
            record_id,
            [
                FinalOutcome(device_id, entry["platform"], entry["status"], entry.get("error"))
                for device_id, entry in previous.items()
                if device_id in scope and entry.get("status") in FINAL_STATUSES
            ],
        )
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
    await asyncio.to_thread(_finish, job, app, record_id, results, first_record=recorded is None)
    for result in results:
        metrics.add_metric(
            name=f"Deliveries{(result.final or 'retrying').title().replace('_', '')}",
            unit="Count",
            value=1,
        )
    return results


def _load(
    job: DeliveryJob, app: AppKeys | None, redelivered: bool
) -> tuple[dict[str, Any] | None, list[Device], list[str]]:
    """(the outcomes recorded so far, None while the notification has no item; the user's
    devices to deliver to; the ids of a retry's devices that are gone or another user's)."""
    previous: dict[str, Any] | None = None
    if redelivered or job.attempt > 0:  # a first delivery has no earlier outcomes to read
        record = notifications.get(job.notification_id)
        if record is not None:
            previous = record.deliveries
    owner = app.user_issuer if app is not None else None
    if job.device_ids is None:
        limit = get_settings().max_devices_per_user
        return previous, user_devices(job.app_id, job.user_id, owner, limit=limit), []
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
    return previous, [found[d] for d in job.device_ids if d in found], gone


def _finish(
    job: DeliveryJob,
    app: AppKeys | None,
    record_id: str | None,
    results: list[DeviceResult],
    *,
    first_record: bool,
) -> None:
    """Drop dead devices, record outcomes, re-queue what waits, then queue receipts (in that
    order, so a status that reads final is the whole truth)."""
    for result in results:
        if result.final == "invalid_token":
            remove_device(result.device)
    _record(job, results, first_record=first_record)
    _requeue(job, [r for r in results if r.final is None])
    _emit_receipts(
        job,
        app,
        record_id,
        [
            FinalOutcome(r.device.device_id, r.device.platform, r.final, _error(r))
            for r in results
            if r.final is not None
        ],
    )


def _finish_gone(
    job: DeliveryJob,
    app: AppKeys | None,
    record_id: str | None,
    previous: dict[str, Any],
    gone: list[str],
) -> None:
    """A retry's devices that are no longer the user's end as `failed` (`device_gone`)
    instead of staying queued; their receipts go out like any other outcome."""
    now = clock.rfc3339()
    owed = [d for d in gone if previous.get(d, {}).get("status") not in FINAL_STATUSES]
    if not owed:
        return
    outcomes = [
        FinalOutcome(d, previous.get(d, {}).get("platform", "unknown"), "failed", "device_gone")
        for d in owed
    ]
    notifications.update_outcomes(
        job.notification_id,
        {
            o.device_id: {
                "platform": o.platform,
                "status": o.status,
                "error": o.error,
                "attempts": int(previous.get(o.device_id, {}).get("attempts", 0)),
                "updated_at": now,
            }
            for o in outcomes
        },
    )
    _emit_receipts(job, app, record_id, outcomes)


def _error(result: DeviceResult) -> str | None:
    return None if result.final == "delivered" else result.outcome.error


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
            outcome = await _send(rt, job, app, address)
        attempts += 1
        # A timed-out device has had its deadline for this invocation: tried again here it
        # would hold the job (and the batch) for another; it waits for the re-queue instead.
        if outcome.status != "retry" or outcome.error == "timeout" or attempts >= max_attempts:
            break
        wait = _QUICK_BACKOFF_SECONDS * (2**quick) * random.uniform(0.5, 1.5)  # noqa: S311
        if outcome.retry_after is not None:
            if outcome.retry_after > _QUICK_RETRY_AFTER_LIMIT:
                break
            wait = max(wait, outcome.retry_after)
        if quick + 1 < QUICK_TRIES:
            await asyncio.sleep(wait)
    if outcome.status != "retry":
        return DeviceResult(device, outcome, attempts, outcome.status)  # type: ignore[arg-type]
    if attempts >= max_attempts:
        return DeviceResult(device, outcome, attempts, "failed")
    rounds = max(0, attempts // QUICK_TRIES - 1)
    delay = retry_base * (2**rounds) * random.uniform(0.8, 1.2)  # noqa: S311
    delay = min(MAX_DELAY_SECONDS, max(delay, outcome.retry_after or 0.0))
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


async def _send(rt: Runtime, job: DeliveryJob, app: AppKeys, address: PushAddress) -> Outcome:
    faults.before_send()  # a no-op outside the local stack's fault-injection runs
    message = job.message
    remaining_ttl = max(0, int(job.expires_at - clock.epoch()))
    if isinstance(address, FcmAddress):
        if app.fcm_account is None:
            return Outcome.failed("fcm:not_configured")
        return await rt.fcm.send(
            app.fcm_account,
            address.token,
            FcmMessage(
                notification_id=job.notification_id,
                title=message.title,
                body=message.body,
                data=message.data or {},
                image=message.image,
                url=message.url,
                collapse_key=message.collapse_key,
                urgency=message.urgency,
                ttl=remaining_ttl,
            ),
        )
    if isinstance(address, WebPushAddress):
        if app.vapid_key is None:
            return Outcome.failed("webpush:no_vapid_key")
        return await rt.webpush.send(
            endpoint=address.endpoint,
            p256dh=address.p256dh,
            auth=address.auth,
            payload=message.webpush_payload(job.notification_id),
            ttl=remaining_ttl,
            urgency=message.urgency,
            topic=message.collapse_key,
            vapid_key=app.vapid_key,
            vapid_subject=app.vapid_subject,
        )
    if isinstance(address, NtfyAddress):
        return await rt.ntfy.send(
            url=address.url,
            access_token=address.token,
            title=message.title,
            body=message.body,
            click_url=message.url,
            urgency=message.urgency,
            tags=None,
        )
    return Outcome.failed("unknown_channel")


def _record(job: DeliveryJob, results: list[DeviceResult], *, first_record: bool) -> None:
    """The notification's first outcomes put its item (until then its status is read from
    the send request's item); later ones update their entries."""
    now = clock.rfc3339()
    entries = {
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
    delay = int(min(r.retry_delay for r in waiting))
    retry = job.model_copy(
        update={"attempt": job.attempt + 1, "device_ids": [r.device.device_id for r in waiting]}
    )
    failed = send_all(
        get_settings().delivery_queue_url,
        [OutgoingMessage("0", retry.model_dump_json(exclude_none=True), delay)],
    )
    if failed:
        raise DeliveryInfrastructureError("could not re-queue a retry")


@dataclass(frozen=True, slots=True)
class FinalOutcome:
    device_id: str
    platform: str
    status: str
    error: str | None


def _emit_receipts(
    job: DeliveryJob, app: AppKeys | None, record_id: str | None, receipts: list[FinalOutcome]
) -> None:
    """Queue one receipt per final outcome, for apps with an active webhook (apps without
    one, such as gateway instances, have their outcomes on the notification only): into the
    invocation's outbox when there is one, else at once."""
    if not receipts:
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
