"""Approval requests (docs/approvals.md): made as a push with buttons to each of the user's
devices, waited for, decided by one tap (the first decision wins, by a conditional write), or
expired after their timeout, which reads as denied.

Expiry needs no polling: making a request queues a message delayed by its timeout for the
timeout worker (`expire_due`), and every read treats a pending request past `expires_at` as
expired, so a late worker never lets a late tap through. Each outcome becomes one signed
receipt (`type: "approval"`); the notification on the devices that did not answer is replaced
where the channel allows.
"""

from __future__ import annotations

import math
import time

from pushgate import clock, ids
from pushgate.approvals import capabilities
from pushgate.approvals import push as approval_push
from pushgate.approvals.actions import ApprovalPush
from pushgate.approvals.models import (
    ApprovalCreatedResponse,
    ApprovalRequest,
    ApprovalStatusResponse,
    ApprovalTimeout,
)
from pushgate.audit import record_change
from pushgate.auth import SCOPE_SEND, Principal
from pushgate.capabilities import MAX_BASE_URL_LENGTH
from pushgate.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    PayloadTooLargeError,
    PushDisabledError,
)
from pushgate.interactions import push as interactions
from pushgate.notifications.models import (
    MAX_WEBPUSH_PLAINTEXT,
    DeliveryJob,
    MessageContent,
    encode_payload,
)
from pushgate.notifications.service import (
    EnqueueFailedError,
    Recipient,
    accept,
    new_notification_ids,
    sending_app,
)
from pushgate.observability import logger, metrics
from pushgate.policy import load_trust, require_app_access
from pushgate.queues import OutgoingMessage, send_all
from pushgate.rate_limits import require_slot
from pushgate.receipts.models import ApprovalReceipt, ReceiptMessage
from pushgate.settings import get_settings
from pushgate.storage import approvals as records
from pushgate.storage import apps, notifications
from pushgate.storage.approvals import Approval, StoredAction

MAX_WAIT_SECONDS = 25  # API Gateway ends a request at 30 s
POLL_SECONDS = 0.5
# Tries at one approval's decision URLs per hour: forged ones cost the caller this budget,
# and spending it can only keep the request from being approved (it then expires: denied).
DECISIONS_PER_HOUR = 30
REPLACEMENT_TITLES = {
    "approved": "Answered on another device",
    "denied": "Answered on another device",
    "expired": "Expired",
}
_REPLACEMENT_TTL_SECONDS = 3600


class TimeoutNotQueuedError(EnqueueFailedError):
    """The approval's expiry could not be scheduled: nothing was sent or kept."""


def create(
    principal: Principal, request: ApprovalRequest, app_id: str | None = None
) -> ApprovalCreatedResponse:
    """Send the request to each of the user's devices (one notification, counted against the
    quota); denied at once (`no_devices`, not counted) when the user has none."""
    app_id = sending_app(principal, app_id)
    trust = load_trust(app_id)
    if trust is None:
        raise PushDisabledError(f"push is not enabled for app {app_id}")
    trust.require_active()
    # Here, not at import: only creating an approval reads devices; the timeout and decision
    # functions that share this module never do (~20% of their cold start).
    from pushgate.devices.service import user_devices

    devices = user_devices(
        app_id, request.user_id, trust.user_issuer, limit=get_settings().max_devices_per_user
    )
    now = clock.epoch()
    approval = Approval(
        approval_id=ids.new_id("apr"),
        app_id=app_id,
        user_id=request.user_id,
        owner_issuer=trust.user_issuer,
        notification_id=new_notification_ids(1)[0] if devices else None,
        title=request.title,
        actions=tuple(StoredAction(a.id, a.label, a.denies) for a in request.actions),
        status="pending" if devices else "denied",
        reason=None if devices else "no_devices",
        action=None,
        device_id=None,
        decided_at=None if devices else clock.rfc3339(now),
        created_at=clock.rfc3339(now),
        expires_at=now + request.timeout_seconds,
    )
    if devices:
        _send(approval, request, [device.device_id for device in devices])
    else:
        records.put(approval)
        try:
            _report(approval, required=True)
        except EnqueueFailedError:
            records.delete(approval.approval_id)
            raise
    record_change("approval.create", principal=principal, app_id=app_id, ids=_ids(approval))
    metrics.add_metric(name="ApprovalsRequested", unit="Count", value=1)
    return ApprovalCreatedResponse(
        approval_id=approval.approval_id,
        status=approval.status,
        reason=approval.reason,
        expires_at=clock.rfc3339(approval.expires_at),
    )


def status(principal: Principal, approval_id: str, *, wait: float = 0) -> ApprovalStatusResponse:
    """The approval as it stands; with `wait`, as soon as it is decided or expires, or after
    `wait` seconds (at most MAX_WAIT_SECONDS), whichever comes first."""
    approval = records.get(approval_id)
    if approval is None or not _may_read(principal, approval.app_id):
        raise NotFoundError("no such approval", code="approval_not_found")
    deadline = time.monotonic() + min(max(wait, 0), MAX_WAIT_SECONDS)
    while _current_status(approval, clock.epoch()) == "pending":
        left = deadline - time.monotonic()
        if left <= 0:
            break
        until_expiry = approval.expires_at - clock.epoch()
        time.sleep(max(0.01, min(POLL_SECONDS, left, until_expiry)))
        approval = records.get(approval_id) or approval
    return _view(approval)


def decide(approval_id: str, token: str) -> ApprovalStatusResponse:
    """Take the decision a decision URL's token stands for. The first decision wins; the same
    one again answers as it was recorded; any other after it is 409, and any after expiry 410.
    A token that is not this approval's, this device's and this action's is 404, like one for
    an approval that does not exist."""
    claimed = capabilities.claim(token)
    approval = records.get(approval_id) if claimed is not None else None
    if claimed is None or approval is None:
        raise NotFoundError("no such decision", code="decision_not_found")
    require_slot(f"decide#{approval_id}", limit=DECISIONS_PER_HOUR, what="decision attempts")
    key = capabilities.approval_key(approval_id)
    if claimed.action_index >= len(approval.actions) or not capabilities.holds(key, claimed):
        logger.warning("decision token refused", extra={"approval_id": approval_id})
        raise NotFoundError("no such decision", code="decision_not_found")
    action = approval.actions[claimed.action_index]
    now = clock.epoch()
    if approval.status == "pending" and now < approval.expires_at:
        won = records.decide(
            approval_id,
            status="denied" if action.denies else "approved",
            action=action.id,
            device_id=claimed.device_id,
            now=now,
            at=clock.rfc3339(now),
        )
        approval = records.get(approval_id) or approval
        if won:
            record_change(
                "approval.decide", principal=None, app_id=approval.app_id, ids=_ids(approval)
            )
            metrics.add_metric(name="ApprovalsDecided", unit="Count", value=1)
            _settle(approval)
            return _view(approval)
    if _current_status(approval, clock.epoch()) in ("expired", "pending"):
        raise GoneError("the approval request has expired", code="approval_expired")
    if (approval.action, approval.device_id) == (action.id, claimed.device_id):
        return _view(approval)
    raise ConflictError("the approval request was already decided", code="already_decided")


def expire_due(approval_id: str) -> None:
    """The timeout worker's part: expire the request if it is still pending (or schedule
    itself again if it came early), then make sure its outcome was reported. Raises when the
    receipt could not be queued, so SQS delivers the message again."""
    approval = records.get(approval_id)
    if approval is None:
        return
    now = clock.epoch()
    if approval.status == "pending":
        if now < approval.expires_at:
            _schedule_expiry(approval_id, math.ceil(approval.expires_at - now))
            return
        if records.expire(approval_id, now=now, at=clock.rfc3339(now)):
            approval = records.get(approval_id) or approval
            record_change(
                "approval.expire", principal=None, app_id=approval.app_id, ids=_ids(approval)
            )
            metrics.add_metric(name="ApprovalsExpired", unit="Count", value=1)
            _replace(approval)
        else:
            approval = records.get(approval_id) or approval
    if approval.status != "pending" and not approval.reported:
        _report(approval, required=True)


def _send(approval: Approval, request: ApprovalRequest, device_ids: list[str]) -> None:
    """Record the approval, schedule its expiry, queue its push; nothing is kept unless all
    three happened."""
    timeout = request.timeout_seconds
    message = MessageContent(
        title=request.title,
        body=request.body,
        data=request.data,
        url=request.url,
        ttl=timeout,  # a push still undelivered when it expires has nothing left to ask
        urgency="high",
        collapse_key=approval.approval_id,
    )
    push = ApprovalPush(approval_id=approval.approval_id, actions=list(request.actions))
    assert approval.notification_id is not None
    _check_size(approval.notification_id, message, push)
    records.put(approval)
    try:
        _schedule_expiry(approval.approval_id, timeout)
        accept(
            approval.app_id,
            [Recipient(approval.user_id, message, device_ids=device_ids, approval=push)],
            notification_ids=[approval.notification_id],
        )
    except Exception:
        records.delete(approval.approval_id)  # an expiry already queued then finds nothing
        raise


def _check_size(notification_id: str, message: MessageContent, push: ApprovalPush) -> None:
    """413 when the Web Push payload, with the longest decision and interactions URLs, would
    not fit."""
    longest = "x" * (MAX_BASE_URL_LENGTH + approval_push.DECISION_PATH_LENGTH)
    job = DeliveryJob(
        notification_id=notification_id,
        app_id="-",
        user_id="-",
        message=message,
        created_at=0,
        expires_at=0,
    )
    urls = {action.id: longest for action in push.actions}
    document = approval_push.webpush_document(job, push, urls)
    document[interactions.WEBPUSH_FIELD] = interactions.LONGEST_URL
    size = len(encode_payload(document))
    if size > MAX_WEBPUSH_PLAINTEXT:
        raise PayloadTooLargeError(
            f"the approval serialises to {size} bytes with its decision URLs; a push message "
            f"holds {MAX_WEBPUSH_PLAINTEXT}"
        )


def _schedule_expiry(approval_id: str, delay_seconds: int) -> None:
    body = ApprovalTimeout(approval_id=approval_id).model_dump_json()
    message = OutgoingMessage("0", body, delay_seconds=delay_seconds)
    if send_all(get_settings().approval_timeout_queue_url, [message]):
        raise TimeoutNotQueuedError("the approval's timeout could not be scheduled; try again")


def _settle(approval: Approval) -> None:
    """After a decision: its receipt, and the notice on the devices that did not answer. A
    receipt that cannot be queued now is queued by the timeout worker."""
    try:
        _report(approval, required=True)
    except EnqueueFailedError:
        logger.error(
            "approval receipt not queued; left to the timeout worker", extra=_ids(approval)
        )
    _replace(approval)


def _report(approval: Approval, *, required: bool = False) -> None:
    """Queue the approval's receipt, for apps with an active webhook, and mark it reported.
    A queue that refuses raises when `required`, else it is logged."""
    app = apps.get(approval.app_id, fields=["webhook_url", "webhook_disabled_at"])
    if app is not None and app.webhook_url and not app.webhook_disabled_at:
        view = _view(approval)
        receipt = ApprovalReceipt(
            approval_id=approval.approval_id,
            app_id=approval.app_id,
            user_id=approval.user_id,
            status=view.status,
            approved=view.approved,
            action=view.action,
            device_id=view.device_id,
            decided_at=view.decided_at,
            reason=view.reason,
            timestamp=clock.rfc3339(),
        )
        body = ReceiptMessage(receipt=receipt).model_dump_json()
        if send_all(get_settings().receipt_queue_url, [OutgoingMessage("0", body)]):
            if required:
                raise EnqueueFailedError("the approval's receipt could not be queued")
            logger.error("approval receipt not queued", extra=_ids(approval))
            return
    records.mark_reported(approval.approval_id)


def _replace(approval: Approval) -> None:
    """Replace the request on the devices that showed it and did not answer, where the
    channel replaces a notification by its tag (Web Push, FCM; ntfy cannot). Best effort:
    the devices' buttons lead to 409 or 410 anyway."""
    if approval.notification_id is None:
        return
    record = notifications.get(approval.notification_id)
    if record is None:
        return
    device_ids = [
        device_id
        for device_id, entry in sorted(record.deliveries.items())
        if entry.get("status") == "delivered"
        and entry.get("platform") != "ntfy"
        and device_id != approval.device_id
    ]
    if not device_ids:
        return
    now = clock.epoch()
    job = DeliveryJob(
        notification_id=new_notification_ids(1)[0],
        app_id=approval.app_id,
        user_id=approval.user_id,
        message=MessageContent(
            title=REPLACEMENT_TITLES[approval.status],
            body=approval.title,
            ttl=_REPLACEMENT_TTL_SECONDS,
            collapse_key=approval.approval_id,
        ),
        created_at=now,
        expires_at=now + _REPLACEMENT_TTL_SECONDS,
        device_ids=device_ids,
        approval=ApprovalPush(approval_id=approval.approval_id, status=approval.status),
        receipts=False,
    )
    body = job.model_dump_json(exclude_none=True)
    if send_all(get_settings().delivery_queue_url, [OutgoingMessage("0", body)]):
        logger.warning("approval replacement not queued", extra=_ids(approval))


def _may_read(principal: Principal, app_id: str) -> bool:
    try:
        require_app_access(principal, app_id, SCOPE_SEND)
    except ForbiddenError:
        return False  # refused as not found: others' ids stay unconfirmed
    return True


def _current_status(approval: Approval, now: float) -> str:
    if approval.status == "pending" and now >= approval.expires_at:
        return "expired"
    return approval.status


def _view(approval: Approval) -> ApprovalStatusResponse:
    current = _current_status(approval, clock.epoch())
    decided_at = approval.decided_at
    if current == "expired" and decided_at is None:
        decided_at = clock.rfc3339(approval.expires_at)
    return ApprovalStatusResponse(
        approval_id=approval.approval_id,
        status=current,  # type: ignore[arg-type]
        approved=current == "approved",
        action=approval.action,
        device_id=approval.device_id,
        decided_at=decided_at,
        expires_at=clock.rfc3339(approval.expires_at),
        reason=approval.reason,
    )


def _audit(action: str, approval: Approval) -> None:
    """An audit line for a change pushgate made (a user's tap, a timeout): ids only."""
    record_change(action, principal=None, app_id=approval.app_id, ids=_ids(approval))


def _ids(approval: Approval) -> dict[str, str]:
    found = {"approval_id": approval.approval_id}
    if approval.device_id:
        found["device_id"] = approval.device_id
    return found
