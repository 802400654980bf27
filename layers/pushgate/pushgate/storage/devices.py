"""The Devices table: one item per registered push address (token, subscription or topic).

Access patterns: get by `device_id`; page an app's devices (GSI `by_app`); a user's devices in
one app or across apps (GSI `by_user` on `user_id`, sorted by `app_device` = `app_id#device_id`).
The push address itself is only ever stored sealed (`pushgate.sealing`).
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class _IndexMeta:
    projection = AllProjection()


class DevicesByApp(GlobalSecondaryIndex["DeviceRecord"]):
    class Meta(_IndexMeta):
        index_name = "by_app"

    app_id = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)


class DevicesByUser(GlobalSecondaryIndex["DeviceRecord"]):
    class Meta(_IndexMeta):
        index_name = "by_user"

    user_id = UnicodeAttribute(hash_key=True)
    app_device = UnicodeAttribute(range_key=True)


class DeviceRecord(Model):
    Meta = table_meta("devices_table_name")

    device_id = UnicodeAttribute(hash_key=True)
    app_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    app_device = UnicodeAttribute()
    platform = UnicodeAttribute()
    channel = UnicodeAttribute()  # fcm | webpush | ntfy: which provider delivers
    address_sealed = UnicodeAttribute()
    owner_issuer = UnicodeAttribute()  # the token issuer (or gateway instance) that registered it
    user_agent = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    last_seen_at = UnicodeAttribute()

    by_app = DevicesByApp()
    by_user = DevicesByUser()


def app_device_key(app_id: str, device_id: str) -> str:
    return f"{app_id}#{device_id}"
