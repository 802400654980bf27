"""Accepting sends: validate size, reserve quota atomically, record, enqueue one job per user."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from pushgate import clock, ids
from pushgate.approvals.actions import ApprovalPush
from pushgate.apps.quota import enforced_daily_quota
from pushgate.auth import SCOPE_SEND, Principal
from pushgate.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    PushDisabledError,
    PushgateError,
    QuotaExceededError,
)
from pushgate.interactions import push as interactions
from pushgate.notifications.models import (
    MAX_WEBPUSH_PLAINTEXT,
    Delivery,
    DeliveryJob,
    MessageContent,
    NotificationStatusResponse,
    encode_payload,
)
from pushgate.observability import logger, metrics
from pushgate.policy import require_app_access, trust_of
from pushgate.queues import OutgoingMessage, send_all
from pushgate.settings import Settings, get_settings
from pushgate.storage import apps, notifications
from pushgate.storage.counters import daily_quota_key, release, reserve
from pushgate.storage.notifications import RETENTION_SECONDS, Notification

_QUOTA_KEY_TTL_SECONDS = 2 * 86_400


class EnqueueFailedError(PushgateError):
    status = 503
    default_code = "queue_unavailable"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One user a notification goes to: all their devices, or only `device_ids` of theirs."""

    user_id: str
    message: MessageContent
    device_ids: list[str] | None = None
    approval: ApprovalPush | None = None


def sending_app(principal: Principal, app_id: str | None) -> str:
    """The app a send request sends as: the service token's own (or `app_id` when it names
    that), or for an admin the `app_id` it must name."""
    if principal.is_admin:
        if app_id is None:
            raise BadRequestError("admin tokens name the app with ?app_id=")
        return app_id
    target = app_id or principal.subject
    require_app_access(principal, target, SCOPE_SEND)
    return target


def new_notification_ids(count: int) -> list[str]:
    """Ids for `count` notifications accepted together (one `ids.new_group`)."""
    return ids.new_group("ntf", count)


def accept(
    app_id: str,
    recipients: Sequence[Recipient],
    *,
    notification_ids: Sequence[str] | None = None,
) -> list[str]:
    """Accept notifications for `recipients` as one unit: every one is queued (and counted
    against the app's quota), or none is. Returns notification ids in recipient order:
    `notification_ids` when the caller minted them (`new_notification_ids`) beforehand."""
    settings = get_settings()
    if len(recipients) > settings.max_batch_size:
        raise BadRequestError(
            f"at most {settings.max_batch_size} notifications per request", code="batch_too_large"
        )
    notification_ids = list(notification_ids or new_notification_ids(len(recipients)))
    _check_sizes(notification_ids, recipients)
    limit = _daily_limit(app_id, settings)
    now = clock.epoch()
    quota_key = daily_quota_key(app_id, clock.utc_day(now))
    midnight = int(now) + clock.seconds_to_utc_midnight(now)
    if not reserve(
        quota_key, len(recipients), limit=limit, expires_at=midnight + _QUOTA_KEY_TTL_SECONDS
    ):
        raise QuotaExceededError(
            f"the daily quota of {limit} notifications would be exceeded",
            retry_after=clock.seconds_to_utc_midnight(now),
        )
    try:
        _record(app_id, notification_ids, recipients, now)
        jobs = _jobs(app_id, notification_ids, recipients, now)
        failed = send_all(settings.delivery_queue_url, jobs)
    except Exception:
        release(quota_key, len(recipients))
        raise
    if failed:
        # What was queued will be delivered; what was not is given back to the quota.
        release(quota_key, len(failed))
        logger.error("enqueue failed", extra={"app_id": app_id, "failed": len(failed)})
        raise EnqueueFailedError(
            f"{len(failed)} of {len(jobs)} notifications could not be queued; retry them"
        )
    metrics.add_metric(name="NotificationsAccepted", unit="Count", value=len(recipients))
    return notification_ids


def _check_sizes(notification_ids: Sequence[str], recipients: Sequence[Recipient]) -> None:
    """413 when a notification would not fit a push message, with the longest interactions
    URL the deliver function adds."""
    for notification_id, recipient in zip(notification_ids, recipients, strict=True):
        check_fits(notification_id, recipient.message)


def check_fits(notification_id: str, message: MessageContent) -> None:
    """413 unless the message, as notification `notification_id` (any id of the usual
    length), fits a push message with the longest interactions URL."""
    document = message.webpush_document(notification_id)
    document[interactions.WEBPUSH_FIELD] = interactions.LONGEST_URL
    size = len(encode_payload(document))
    if size > MAX_WEBPUSH_PLAINTEXT:
        raise PayloadTooLargeError(
            f"the notification serialises to {size} bytes; a push message holds "
            f"{MAX_WEBPUSH_PLAINTEXT}"
        )


def _jobs(
    app_id: str, notification_ids: Sequence[str], recipients: Sequence[Recipient], now: float
) -> list[OutgoingMessage]:
    """One delivery job per notification (one user's devices each)."""
    return [
        OutgoingMessage(
            id=str(index),
            body=DeliveryJob(
                notification_id=notification_id,
                app_id=app_id,
                user_id=recipient.user_id,
                message=recipient.message,
                created_at=now,
                expires_at=now + recipient.message.ttl,
                device_ids=recipient.device_ids,
                approval=recipient.approval,
            ).model_dump_json(exclude_none=True),
        )
        for index, (notification_id, recipient) in enumerate(
            zip(notification_ids, recipients, strict=True)
        )
    ]


def _daily_limit(app_id: str, settings: Settings) -> int:
    """The app's enforced daily quota; 403 unless it is enabled and not suspended."""
    app = apps.get(app_id, fields=["enabled", "suspended", "daily_quota", "max_daily_quota"])
    if app is None:
        raise PushDisabledError(f"push is not enabled for app {app_id}")
    trust_of(app).require_active()
    return enforced_daily_quota(app, settings)


def _record(
    app_id: str, notification_ids: list[str], recipients: Sequence[Recipient], now: float
) -> None:
    """One item for the whole request; each notification gets its own at its first delivery
    (see pushgate.storage.notifications)."""
    group_key, _ = ids.group_key(notification_ids[0])
    notifications.put_request(
        group_key,
        app_id=app_id,
        user_ids=[recipient.user_id for recipient in recipients],
        created_at=clock.rfc3339(now),
        expires_at=int(now) + RETENTION_SECONDS,
    )


def notification_status(principal: Principal, notification_id: str) -> NotificationStatusResponse:
    """The notification, each device's delivery status and what the device reported of it
    (pushgate.interactions); 404 unless the caller owns it."""
    found = find(notification_id)
    if found is None:
        raise NotFoundError("no such notification")
    try:
        # The app-access rule of every route (so a gateway instance's app, which has no token
        # holder, is for admins only); refused as not found: ids of others stay unconfirmed.
        require_app_access(principal, found.app_id, SCOPE_SEND)
    except ForbiddenError:
        raise NotFoundError("no such notification") from None
    reported = notifications.interactions_of(notification_id, sorted(found.deliveries))
    return NotificationStatusResponse(
        notification_id=found.notification_id,
        app_id=found.app_id,
        user_id=found.user_id,
        created_at=found.created_at,
        deliveries=[
            Delivery(
                device_id=device_id,
                **entry,
                **asdict(reported.get(device_id) or notifications.Interaction()),
            )
            for device_id, entry in sorted(found.deliveries.items())
        ],
    )


def find(notification_id: str) -> Notification | None:
    """The notification, from its own item (written at its first delivery attempt), else
    from its send request's: accepted, no delivery recorded yet (no `deliveries`)."""
    record = notifications.get(notification_id)
    if record is not None:
        return record
    try:
        group_key, index = ids.group_key(notification_id)
    except ValueError:  # a well-formed id pushgate never minted
        return None
    request = notifications.get_request(group_key)
    if request is None or index >= len(request.user_ids):
        return None
    return Notification(
        notification_id=notification_id,
        app_id=request.app_id,
        user_id=request.user_ids[index],
        created_at=request.created_at,
        deliveries={},
    )
