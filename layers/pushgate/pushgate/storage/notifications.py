"""The Notifications table: a send request's item, then one item per notification with its
per-device outcomes in a map.

Access patterns: accepting a send puts one `NotificationRequestRecord` for the whole request
(its notification ids are one `ids.new_group`, the item is keyed by the group's key); the
first delivery of a notification puts its `NotificationRecord`, later attempts update one
`deliveries.<device_id>` entry per outcome; the status API gets the notification's item, or
the request's while it has none (queued). So a notification costs one write at send time
shared by up to 500 (bulk and batch sends) plus its outcome writes, not a write of its own
before anything happened. Items expire 30 days after the send (TTL).

A device's interactions with a notification (pushgate.interactions: shown, tapped) are an
item of their own, `InteractionRecord`, keyed `<notification id>/<device id>`: a device
reports the display as soon as the push arrives, often before the deliver function has
written the outcome its item would hold, and the outcome writes replace a device's whole
entry. Each first event is a conditional write; the status API reads a notification's
interaction items in one BatchGetItem. They expire 30 days after the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.models import Model

from pushgate.storage.base import table_meta

RETENTION_SECONDS = 30 * 86_400


class NotificationRecord(Model):
    Meta = table_meta("notifications_table_name")

    notification_id = UnicodeAttribute(hash_key=True)
    app_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()
    # device_id -> {platform, status, error, attempts, updated_at}
    deliveries = MapAttribute(default=dict)


class NotificationRequestRecord(Model):
    """An accepted send request: its notifications, by index in their id group, are for
    `user_ids[index]`. The key is the group key of the notification ids (`ids.group_key`),
    shorter than any notification id, so the two kinds of item never share a key."""

    Meta = table_meta("notifications_table_name")

    group_key = UnicodeAttribute(hash_key=True, attr_name="notification_id")
    app_id = UnicodeAttribute()
    user_ids = ListAttribute(of=UnicodeAttribute)
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class InteractionRecord(Model):
    """A device's interactions with one notification: the first display and the first click.
    Its key has a `/`, which no notification id or request key has."""

    Meta = table_meta("notifications_table_name")

    interaction_key = UnicodeAttribute(hash_key=True, attr_name="notification_id")
    displayed_at = UnicodeAttribute(null=True)
    clicked_at = UnicodeAttribute(null=True)
    clicked_action = UnicodeAttribute(null=True)
    expires_at = NumberAttribute()


@dataclass(frozen=True, slots=True)
class Notification:
    """A notification with the outcome of each device it went to (device id -> `{platform,
    status, error, attempts, updated_at}`)."""

    notification_id: str
    app_id: str
    user_id: str
    created_at: str
    deliveries: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SendRequest:
    """An accepted send request: its notifications, by index in their id group, are for
    `user_ids[index]`."""

    app_id: str
    user_ids: list[str]
    created_at: str


@dataclass(frozen=True, slots=True)
class Interaction:
    """What a device reported of a notification so far (None: not yet)."""

    displayed_at: str | None = None
    clicked_at: str | None = None
    clicked_action: str | None = None


# An update expression is capped at 4 KB: outcomes are written this many devices at a time.
_OUTCOMES_PER_UPDATE = 25


def get(notification_id: str) -> Notification | None:
    try:
        record = NotificationRecord.get(notification_id)
    except NotificationRecord.DoesNotExist:
        return None
    return _notification(record)


def get_many(notification_ids: list[str]) -> dict[str, Notification]:
    """The notifications that have an item among `notification_ids`, by id (one BatchGetItem
    per 100; keys DynamoDB leaves unprocessed are asked for again)."""
    if not notification_ids:
        return {}
    return {
        record.notification_id: _notification(record)
        for record in NotificationRecord.batch_get(notification_ids)
    }


def _notification(record: NotificationRecord) -> Notification:
    return Notification(
        notification_id=record.notification_id,
        app_id=record.app_id,
        user_id=record.user_id,
        created_at=record.created_at,
        deliveries=(record.deliveries or {}).as_dict(),
    )


def put_request(
    group_key: str, *, app_id: str, user_ids: list[str], created_at: str, expires_at: int
) -> None:
    NotificationRequestRecord(
        group_key, app_id=app_id, user_ids=user_ids, created_at=created_at, expires_at=expires_at
    ).save()


def get_request(group_key: str) -> SendRequest | None:
    try:
        record = NotificationRequestRecord.get(group_key)
    except NotificationRequestRecord.DoesNotExist:
        return None
    return SendRequest(record.app_id, list(record.user_ids), record.created_at)


def put_outcomes(
    notification_id: str,
    *,
    app_id: str,
    user_id: str,
    created_at: str,
    expires_at: int,
    deliveries: dict[str, dict[str, Any]],
) -> None:
    """The notification's item with its first outcomes."""
    NotificationRecord(
        notification_id,
        app_id=app_id,
        user_id=user_id,
        created_at=created_at,
        expires_at=expires_at,
        deliveries=deliveries,
    ).save()


def update_outcomes(notification_id: str, deliveries: dict[str, dict[str, Any]]) -> None:
    """Set these devices' outcomes on the notification's existing item."""
    device_ids = list(deliveries)
    for start in range(0, len(device_ids), _OUTCOMES_PER_UPDATE):
        NotificationRecord(notification_id).update(
            actions=[
                NotificationRecord.deliveries[device_id].set(deliveries[device_id])
                for device_id in device_ids[start : start + _OUTCOMES_PER_UPDATE]
            ],
            condition=NotificationRecord.notification_id.exists(),
        )


def get_interaction(notification_id: str, device_id: str) -> Interaction:
    """The device's interactions with the notification (read strongly: a report just made
    is seen)."""
    try:
        record = InteractionRecord.get(
            _interaction_key(notification_id, device_id), consistent_read=True
        )
    except InteractionRecord.DoesNotExist:
        return Interaction()
    return _interaction(record)


def interactions_of(notification_id: str, device_ids: list[str]) -> dict[str, Interaction]:
    """device id -> its interactions, for the devices of `device_ids` that reported any."""
    keys = {_interaction_key(notification_id, device_id): device_id for device_id in device_ids}
    if not keys:
        return {}
    return {
        keys[record.interaction_key]: _interaction(record)
        for record in InteractionRecord.batch_get(list(keys))
    }


def record_display(
    notification_id: str, device_id: str, *, at: str, expires_at: int
) -> Interaction | None:
    """Record the device's first display; None (nothing written) when one was recorded."""
    return _record_first(
        notification_id,
        device_id,
        [InteractionRecord.displayed_at.set(at), InteractionRecord.expires_at.set(expires_at)],
        InteractionRecord.displayed_at.does_not_exist(),
    )


def record_click(
    notification_id: str, device_id: str, *, at: str, action: str | None, expires_at: int
) -> Interaction | None:
    """Record the device's first click; None (nothing written) when one was recorded."""
    actions = [InteractionRecord.clicked_at.set(at), InteractionRecord.expires_at.set(expires_at)]
    if action is not None:
        actions.append(InteractionRecord.clicked_action.set(action))
    return _record_first(
        notification_id, device_id, actions, InteractionRecord.clicked_at.does_not_exist()
    )


def _record_first(
    notification_id: str, device_id: str, actions: list[Any], condition: Any
) -> Interaction | None:
    record = InteractionRecord(_interaction_key(notification_id, device_id))
    try:
        record.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return _interaction(record)


def _interaction_key(notification_id: str, device_id: str) -> str:
    return f"{notification_id}/{device_id}"


def _interaction(record: InteractionRecord) -> Interaction:
    return Interaction(record.displayed_at, record.clicked_at, record.clicked_action)
