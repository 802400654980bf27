"""The fan-out worker's one page: read a page of the app's devices, reserve their quota and
count them in one transaction that commits the page (once), then queue their delivery jobs
and the next page.

A page message delivered twice finds its page committed and does nothing; one whose worker
died after the commit but before its jobs and next page were queued (`queued` behind
`pages`) queues them again: the quota is never reserved twice, and in that one crash a
device may get the broadcast twice (SQS itself is at least once)."""

from __future__ import annotations

from collections.abc import Sequence

from pushgate import clock, ids
from pushgate.apps.quota import enforced_daily_quota
from pushgate.broadcasts.models import LEASE_SECONDS, BroadcastPage
from pushgate.errors import ForbiddenError
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.observability import logger, metrics
from pushgate.policy import AppTrust, trust_of
from pushgate.queues import OutgoingMessage, send_all
from pushgate.settings import get_settings
from pushgate.storage import apps, counters, notifications
from pushgate.storage import broadcasts as storage
from pushgate.storage import devices as registry
from pushgate.storage.broadcasts import Broadcast, Ending, Reservation
from pushgate.storage.devices import Device
from pushgate.storage.notifications import RETENTION_SECONDS

PAGE_SIZE = 500  # devices per page: one Query, at most 500 jobs, well inside a 30 s invocation
_QUOTA_KEY_TTL_SECONDS = 2 * 86_400
_QUOTA_ATTEMPTS = 5  # sends race the page for the last of the quota
_APP_FIELDS = [
    "app_id",
    "enabled",
    "suspended",
    "issuer",
    "service_issuers",
    "user_issuer",
    "owner_instance",
    "daily_quota",
    "max_daily_quota",
]


class BroadcastQueueError(Exception):
    """Delivery jobs or the next page could not be queued: SQS retries the page."""


def fan_out(page: BroadcastPage) -> None:
    """Process one page message (see the module docstring for redeliveries)."""
    broadcast = storage.get(page.broadcast_id)
    if broadcast is None:
        logger.warning("page of an unknown broadcast", extra={"broadcast_id": page.broadcast_id})
    elif broadcast.pages == page.page + 1 and broadcast.queued == page.page:
        _requeue_committed(broadcast, page)
    elif broadcast.pages != page.page:
        pass  # committed and queued before: a redelivery
    elif broadcast.status != "running":
        storage.release_lock(broadcast.app_id, broadcast.broadcast_id)  # cancelled: stop here
    else:
        _process(broadcast, page)


def _process(broadcast: Broadcast, page: BroadcastPage) -> None:
    """Commit the page (while the app still takes sends), then queue what it reached."""
    app = apps.get(broadcast.app_id, fields=_APP_FIELDS)
    if app is None:
        storage.end(broadcast, Ending("cancelled", "the app was removed", clock.rfc3339()))
        return
    trust = trust_of(app)
    try:
        trust.require_active()
    except ForbiddenError as exc:
        storage.end(broadcast, Ending("cancelled", exc.message, clock.rfc3339()))
        return
    found, after = registry.page_of_app(broadcast.app_id, limit=PAGE_SIZE, after=page.after)
    selected = _selected(broadcast, trust, found)
    limit = enforced_daily_quota(app, get_settings())
    for _ in range(_QUOTA_ATTEMPTS):
        result, take, ending = _commit(broadcast, page, selected, after, limit)
        if result != "quota":
            break
    else:
        raise BroadcastQueueError("the daily quota kept changing under the page; retry it")
    if result == "lease_lost":
        storage.end(
            broadcast,
            Ending("cancelled", "another broadcast of the app took over", clock.rfc3339()),
        )
    elif result == "committed":
        _queue(broadcast, page, selected[:take], after if ending is None else None)
    # "stale": another delivery of this message committed it, or it was cancelled meanwhile.


def _commit(
    broadcast: Broadcast,
    page: BroadcastPage,
    selected: Sequence[Device],
    after: str | None,
    limit: int,
) -> tuple[storage.CommitResult, int, Ending | None]:
    """Commit the page reaching as many of `selected` as the quota has left: all of them,
    else what remains (and the broadcast ends `quota_exhausted`)."""
    now = clock.epoch()
    key = counters.daily_quota_key(broadcast.app_id, clock.utc_day(now))
    take = max(0, min(len(selected), limit - counters.read_count(key)))
    ending = None
    if take < len(selected):
        ending = Ending(
            "quota_exhausted",
            f"the daily quota of {limit} notifications ran out after "
            f"{broadcast.reached + take} devices",
            clock.rfc3339(now),
        )
    elif after is None:
        ending = Ending("finished", None, clock.rfc3339(now))
    midnight = int(now) + clock.seconds_to_utc_midnight(now)
    reservation = Reservation(key, take, limit, midnight + _QUOTA_KEY_TTL_SECONDS) if take else None
    result = storage.commit_page(
        broadcast,
        page=page.page,
        take=take,
        lease_until=now + LEASE_SECONDS,
        reservation=reservation,
        ending=ending,
    )
    return result, take, ending


def _requeue_committed(broadcast: Broadcast, page: BroadcastPage) -> None:
    """The page was committed and its worker died before queuing what it reached: read the
    same page again and queue its first `last_take` devices and, while running, the next."""
    trust = _trust(broadcast.app_id)
    found, after = registry.page_of_app(broadcast.app_id, limit=PAGE_SIZE, after=page.after)
    selected = _selected(broadcast, trust, found) if trust is not None else []
    following = None
    if broadcast.status == "running":
        # Devices removed meanwhile may have shortened the page: continue after it anyway.
        following = after or (found[-1].device_id if found else page.after) or ""
    _queue(broadcast, page, selected[: broadcast.last_take], following)


def _trust(app_id: str) -> AppTrust | None:
    app = apps.get(app_id, fields=["app_id", "issuer", "user_issuer", "owner_instance"])
    return trust_of(app) if app is not None else None


def _selected(broadcast: Broadcast, trust: AppTrust, found: Sequence[Device]) -> list[Device]:
    """The page's devices the broadcast goes to: of its platforms, and registered by the
    app's users (a device of an issuer the app no longer trusts is never delivered to)."""
    return [
        device
        for device in found
        if (broadcast.platforms is None or device.platform in broadcast.platforms)
        and device.owner_issuer == trust.user_issuer
    ]


def _queue(
    broadcast: Broadcast, page: BroadcastPage, reached: Sequence[Device], after: str | None
) -> None:
    """One delivery job per user of the page (their devices named), the notifications' send
    request recorded so their status reads queued; then the next page; then `queued`."""
    settings = get_settings()
    if reached:
        by_user: dict[str, list[str]] = {}
        for device in reached:
            by_user.setdefault(device.user_id, []).append(device.device_id)
        now = clock.epoch()
        message = MessageContent.model_validate(broadcast.message)
        notification_ids = ids.new_group("ntf", len(by_user))
        group_key, _ = ids.group_key(notification_ids[0])
        notifications.put_request(
            group_key,
            app_id=broadcast.app_id,
            user_ids=list(by_user),
            created_at=clock.rfc3339(now),
            expires_at=int(now) + RETENTION_SECONDS,
        )
        jobs = [
            OutgoingMessage(
                str(index),
                DeliveryJob(
                    notification_id=notification_id,
                    app_id=broadcast.app_id,
                    user_id=user_id,
                    message=message,
                    created_at=now,
                    expires_at=now + message.ttl,
                    device_ids=device_ids,
                    broadcast_id=broadcast.broadcast_id,
                ).model_dump_json(exclude_none=True),
            )
            for index, (notification_id, (user_id, device_ids)) in enumerate(
                zip(notification_ids, by_user.items(), strict=True)
            )
        ]
        if send_all(settings.delivery_queue_url, jobs):
            raise BroadcastQueueError("delivery jobs of a broadcast page could not be queued")
        metrics.add_metric(name="BroadcastDevicesReached", unit="Count", value=len(reached))
    if after is not None:
        following = BroadcastPage(
            broadcast_id=broadcast.broadcast_id,
            app_id=broadcast.app_id,
            page=page.page + 1,
            after=after or None,
        )
        if send_all(
            settings.broadcast_queue_url, [OutgoingMessage("0", following.model_dump_json())]
        ):
            raise BroadcastQueueError("the next page of a broadcast could not be queued")
    storage.mark_queued(broadcast.broadcast_id, page.page)
