"""The Notifications table: one item per notification, its per-device outcomes in a map.

Access patterns: put at send time (batched); update one `deliveries.<device_id>` entry per
outcome; get by id for the status API. Items expire 30 days after the send (TTL).
"""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
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
