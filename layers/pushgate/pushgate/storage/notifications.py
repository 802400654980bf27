"""The Notifications table: a send request's item, then one item per notification with its
per-device outcomes in a map.

Access patterns: accepting a send puts one `NotificationRequestRecord` for the whole request
(its notification ids are one `ids.new_group`, the item is keyed by the group's key); the
first delivery of a notification puts its `NotificationRecord`, later attempts update one
`deliveries.<device_id>` entry per outcome; the status API gets the notification's item, or
the request's while it has none (queued). So a notification costs one write at send time
shared by up to 500 (bulk and batch sends) plus its outcome writes, not a write of its own
before anything happened. Items expire 30 days after the send (TTL).
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
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
