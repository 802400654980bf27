"""How an approval looks on each channel (docs/approvals.md): its buttons, each a decision
URL of the device's own, or, once it is answered or expired, the notice that replaces it.

- ntfy: `http` actions that POST the decision URL and clear the notification.
- Web Push: the payload's `actions` ([{action, title}]) for `showNotification`, and
  `approval.decisions` (action id -> URL) for the service worker to POST on a click.
- FCM: data fields an app acts on (`approval_id`, `approval_actions` as JSON text with each
  decision URL), no `notification` block on Android (the app builds the notification with its
  buttons), an alert with the `PUSHGATE_APPROVAL` category on iOS, and
  `webpush.notification.actions` for FCM's web clients.
"""

from __future__ import annotations

import json
from typing import Any

from pushgate.approvals.actions import ApprovalPush
from pushgate.approvals.capabilities import decision_token
from pushgate.notifications.models import DeliveryJob

IOS_CATEGORY = "PUSHGATE_APPROVAL"
_DECISION_PATH = "/push/approvals/{approval_id}/decisions/{token}"
# The longest a decision URL's path gets: the approval id is 30 characters, the token 76.
DECISION_PATH_LENGTH = len(_DECISION_PATH.format(approval_id="a" * 30, token="t" * 76))


def decision_urls(base_url: str, push: ApprovalPush, key: bytes, device_id: str) -> dict[str, str]:
    """Action id -> the URL that takes that decision on this device."""
    return {
        action.id: base_url
        + _DECISION_PATH.format(
            approval_id=push.approval_id, token=decision_token(key, device_id, index)
        )
        for index, action in enumerate(push.actions)
    }


def ntfy_actions(push: ApprovalPush, urls: dict[str, str]) -> list[dict[str, Any]]:
    """ntfy's action buttons: an HTTP POST each, clearing the notification once tapped."""
    return [
        {"action": "http", "label": a.label, "url": urls[a.id], "method": "POST", "clear": True}
        for a in push.actions
    ]


def webpush_document(job: DeliveryJob, push: ApprovalPush, urls: dict[str, str]) -> dict[str, Any]:
    """The Web Push payload: the notification's own fields with the approval's, under the
    approval's id as `tag`, so the notice that replaces it takes its place."""
    document = job.message.webpush_document(job.notification_id)
    document["tag"] = push.approval_id
    if push.status is not None:
        document["approval"] = {"approval_id": push.approval_id, "status": push.status}
        return document
    document["actions"] = [{"action": a.id, "title": a.label} for a in push.actions]
    document["requireInteraction"] = True
    document["approval"] = {
        "approval_id": push.approval_id,
        "decisions": urls,
        "denies": [a.id for a in push.actions if a.denies],
    }
    return document


def fcm_data(push: ApprovalPush, urls: dict[str, str]) -> dict[str, str]:
    """The data fields of an approval (all strings, as FCM requires)."""
    if push.status is not None:
        return {"approval_id": push.approval_id, "approval_status": push.status}
    actions = [
        {"id": a.id, "label": a.label, "denies": a.denies, "url": urls[a.id]} for a in push.actions
    ]
    return {
        "approval_id": push.approval_id,
        "approval_actions": json.dumps(actions, separators=(",", ":"), ensure_ascii=False),
    }


def fcm_web_actions(push: ApprovalPush) -> list[dict[str, str]]:
    return [{"action": a.id, "title": a.label} for a in push.actions]
