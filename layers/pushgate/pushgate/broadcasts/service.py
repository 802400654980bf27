"""Starting, reading and cancelling broadcasts (the HTTP side; `fanout` is the worker's).

Starting one fans nothing out: it records the broadcast, takes the app's one-at-a-time lock
with a lease (`LEASE_SECONDS`, renewed by every page) and queues the first page."""

from __future__ import annotations

from pushgate import audit, clock, ids
from pushgate.auth import SCOPE_SEND, Principal
from pushgate.broadcasts.models import (
    LEASE_SECONDS,
    STALLED_REASON,
    BroadcastOutcomes,
    BroadcastPage,
    BroadcastRequest,
    BroadcastStatusResponse,
)
from pushgate.errors import ConflictError, ForbiddenError, NotFoundError, PushDisabledError
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import EnqueueFailedError, check_fits
from pushgate.observability import logger, metrics
from pushgate.policy import require_app_access, trust_of
from pushgate.queues import OutgoingMessage, send_all
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage import broadcasts as storage
from pushgate.storage.broadcasts import Broadcast, Ending


def start(principal: Principal, app_id: str, request: BroadcastRequest) -> str:
    """Record a broadcast to the app's devices and queue its first page; 409
    `broadcast_running` while another of the app's runs."""
    app = apps.get(
        app_id,
        fields=[
            "app_id",
            "enabled",
            "suspended",
            "issuer",
            "service_issuers",
            "user_issuer",
            "owner_instance",
            "device_count",
        ],
    )
    if app is None:
        raise PushDisabledError(f"push is not enabled for app {app_id}")
    trust_of(app).require_active()
    message = MessageContent.model_validate(
        request.model_dump(include=set(MessageContent.model_fields))
    )
    check_fits(ids.new_id("ntf"), message)
    now = clock.epoch()
    holder = storage.running_of(app_id)
    broadcast = Broadcast(
        broadcast_id=ids.new_id("brd"),
        app_id=app_id,
        message=message.model_dump(mode="json", exclude_none=True),
        platforms=tuple(request.platforms) if request.platforms is not None else None,
        status="running",
        reason=None,
        total=int(app.device_count or 0),
        reached=0,
        pages=0,
        queued=0,
        last_take=0,
        outcomes={},
        created_at=clock.rfc3339(now),
        finished_at=None,
        lease_until=now + LEASE_SECONDS,
    )
    if not storage.start(broadcast, now=now):
        raise ConflictError(
            "a broadcast of this app is still running; cancel it or wait for it to end",
            code="broadcast_running",
        )
    if holder is not None:  # its lease had run out: it stalled, say so on it
        stalled = storage.get(holder[0])
        if stalled is not None:
            storage.end(stalled, Ending("cancelled", STALLED_REASON, clock.rfc3339(now)))
    first = BroadcastPage(broadcast_id=broadcast.broadcast_id, app_id=app_id, page=0)
    queue_url = get_settings().broadcast_queue_url
    if send_all(queue_url, [OutgoingMessage("0", first.model_dump_json())]):
        storage.delete(broadcast.broadcast_id, app_id)
        logger.error("broadcast page could not be queued", extra={"app_id": app_id})
        raise EnqueueFailedError("the broadcast could not be queued; retry it")
    audit.record_change(
        "broadcast.start",
        principal=principal,
        app_id=app_id,
        fields=sorted(request.model_dump(exclude_none=True)),
        ids={"broadcast_id": broadcast.broadcast_id},
    )
    metrics.add_metric(name="BroadcastsStarted", unit="Count", value=1)
    return broadcast.broadcast_id


def status(principal: Principal, broadcast_id: str) -> BroadcastStatusResponse:
    """The broadcast's progress; 404 unless the caller's app owns it (or an admin asks)."""
    return view(_owned(principal, broadcast_id))


def cancel(principal: Principal, broadcast_id: str) -> BroadcastStatusResponse:
    """Stop the broadcast at its next page (pages already queued still deliver); 409
    `broadcast_finished` once it has ended."""
    broadcast = _owned(principal, broadcast_id)
    by = f"cancelled by {principal.kind} {principal.subject}"
    ending = Ending("cancelled", by, clock.rfc3339())
    if view(broadcast).status != "running" or not storage.end(broadcast, ending):
        raise ConflictError("the broadcast has already ended", code="broadcast_finished")
    audit.record_change(
        "broadcast.cancel",
        principal=principal,
        app_id=broadcast.app_id,
        fields=["status"],
        ids={"broadcast_id": broadcast_id},
    )
    return view(_owned(principal, broadcast_id))


def view(broadcast: Broadcast) -> BroadcastStatusResponse:
    """What the API shows: a running broadcast whose lease ran out reads as cancelled."""
    status, reason = broadcast.status, broadcast.reason
    if status == "running" and broadcast.lease_until < clock.epoch():
        status, reason = "cancelled", STALLED_REASON
    outcomes = BroadcastOutcomes(**{o: broadcast.outcomes.get(o, 0) for o in storage.OUTCOMES})
    return BroadcastStatusResponse(
        broadcast_id=broadcast.broadcast_id,
        app_id=broadcast.app_id,
        status=status,
        total=broadcast.total,
        reached=broadcast.reached,
        by_outcome=outcomes,
        finished=status != "running" and sum(broadcast.outcomes.values()) >= broadcast.reached,
        created_at=broadcast.created_at,
        finished_at=broadcast.finished_at,
        reason=reason or None,
    )


def _owned(principal: Principal, broadcast_id: str) -> Broadcast:
    if not principal.is_admin and principal.kind != "service":
        raise ForbiddenError("this operation needs an admin or the app's service token")
    broadcast = storage.get(broadcast_id)
    if broadcast is None:
        raise NotFoundError("no such broadcast")
    try:
        # As for notifications: another app's broadcast is not confirmed to exist.
        require_app_access(principal, broadcast.app_id, SCOPE_SEND)
    except ForbiddenError:
        raise NotFoundError("no such broadcast") from None
    return broadcast
