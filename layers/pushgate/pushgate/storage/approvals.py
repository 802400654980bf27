"""The Approvals table: one item per approval request, `Approval` in and out.

Access patterns: put when the request is made; get by id (status reads, long-polls,
decisions); one conditional update from `pending` to its outcome: the first decision while
it has not expired (`decide`), or `expired` once `expires_at` has passed (`expire`), so
exactly one of them wins; `reported` once its receipt is queued. Items are kept 30 days after
they expire (TTL `retain_until`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from pushgate.storage.base import conditional, table_meta

RETENTION_SECONDS = 30 * 86_400
Status = Literal["pending", "approved", "denied", "expired"]


class ApprovalRecord(Model):
    """The item (storage only: everything else sees `Approval`)."""

    Meta = table_meta("approvals_table_name")

    approval_id = UnicodeAttribute(hash_key=True)
    app_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    owner_issuer = UnicodeAttribute(null=True)
    notification_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    actions = UnicodeAttribute()  # JSON: [{id, label, denies}]
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)
    device_id = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()
    retain_until = NumberAttribute()
    # Its outcome's receipt is queued (or the app has no webhook): the timeout worker
    # queues it otherwise.
    reported = BooleanAttribute(default=False)


@dataclass(frozen=True, slots=True)
class StoredAction:
    id: str
    label: str
    denies: bool


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: str
    app_id: str
    user_id: str
    owner_issuer: str | None
    notification_id: str | None
    title: str
    actions: tuple[StoredAction, ...]
    status: Status
    reason: str | None
    action: str | None
    device_id: str | None
    decided_at: str | None
    created_at: str
    expires_at: float
    reported: bool = False


def _approval(record: ApprovalRecord) -> Approval:
    return Approval(
        approval_id=record.approval_id,
        app_id=record.app_id,
        user_id=record.user_id,
        owner_issuer=record.owner_issuer,
        notification_id=record.notification_id,
        title=record.title,
        actions=tuple(StoredAction(**a) for a in json.loads(record.actions)),
        status=record.status,  # type: ignore[arg-type]
        reason=record.reason,
        action=record.action,
        device_id=record.device_id,
        decided_at=record.decided_at,
        created_at=record.created_at,
        expires_at=float(record.expires_at),
        reported=bool(record.reported),
    )


def put(approval: Approval) -> None:
    actions = [{"id": a.id, "label": a.label, "denies": a.denies} for a in approval.actions]
    ApprovalRecord(
        approval.approval_id,
        app_id=approval.app_id,
        user_id=approval.user_id,
        owner_issuer=approval.owner_issuer,
        notification_id=approval.notification_id,
        title=approval.title,
        actions=json.dumps(actions, separators=(",", ":")),
        status=approval.status,
        reason=approval.reason,
        action=approval.action,
        device_id=approval.device_id,
        decided_at=approval.decided_at,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        retain_until=int(approval.expires_at) + RETENTION_SECONDS,
        reported=approval.reported,
    ).save(condition=ApprovalRecord.approval_id.does_not_exist())


def get(approval_id: str) -> Approval | None:
    try:
        return _approval(ApprovalRecord.get(approval_id, consistent_read=True))
    except ApprovalRecord.DoesNotExist:
        return None


def delete(approval_id: str) -> None:
    ApprovalRecord(approval_id).delete()


def decide(
    approval_id: str, *, status: Status, action: str, device_id: str, now: float, at: str
) -> bool:
    """Record the first decision: only while pending and not expired at `now`."""
    return conditional(
        lambda: ApprovalRecord(approval_id).update(
            actions=[
                ApprovalRecord.status.set(status),
                ApprovalRecord.action.set(action),
                ApprovalRecord.device_id.set(device_id),
                ApprovalRecord.decided_at.set(at),
            ],
            condition=(ApprovalRecord.status == "pending") & (ApprovalRecord.expires_at > now),
        )
    )


def expire(approval_id: str, *, now: float, at: str) -> bool:
    """Record the expiry: only while pending and past `expires_at` at `now`."""
    return conditional(
        lambda: ApprovalRecord(approval_id).update(
            actions=[ApprovalRecord.status.set("expired"), ApprovalRecord.decided_at.set(at)],
            condition=(ApprovalRecord.status == "pending") & (ApprovalRecord.expires_at <= now),
        )
    )


def mark_reported(approval_id: str) -> None:
    ApprovalRecord(approval_id).update(
        actions=[ApprovalRecord.reported.set(True)],
        condition=ApprovalRecord.approval_id.exists(),
    )
