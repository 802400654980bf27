"""The Devices table: one item per registered push address (token, subscription or topic),
`Device` in and out.

Access patterns: get by `device_id`; page an app's devices (GSI `by_app`); a user's devices in
one app or across apps (GSI `by_user` on `user_id`, sorted by `app_device` = `app_id#device_id`).
Every insert and delete changes the app's `device_count` in the same transaction, so the count
is exact without a scan. The push address itself is only ever stored sealed (`pushgate.sealing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pushgate.storage.apps import AppRecord
from pushgate.storage.base import conditional, table_meta, transaction


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
    """The item (storage only: everything else sees `Device`)."""

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


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device. A user is (`owner_issuer`, `user_id`)."""

    device_id: str
    app_id: str
    user_id: str
    platform: str
    channel: str
    address_sealed: str
    owner_issuer: str
    user_agent: str | None
    created_at: str
    last_seen_at: str


def app_device_key(app_id: str, device_id: str) -> str:
    return f"{app_id}#{device_id}"


def _device(record: DeviceRecord) -> Device:
    return Device(
        device_id=record.device_id,
        app_id=record.app_id,
        user_id=record.user_id,
        platform=record.platform,
        channel=record.channel,
        address_sealed=record.address_sealed,
        owner_issuer=record.owner_issuer,
        user_agent=record.user_agent,
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
    )


def get(device_id: str) -> Device | None:
    try:
        return _device(DeviceRecord.get(device_id))
    except DeviceRecord.DoesNotExist:
        return None


def get_many(device_ids: Iterable[str]) -> list[Device]:
    """The devices that exist among `device_ids` (one BatchGetItem per 100)."""
    return [_device(record) for record in DeviceRecord.batch_get(list(device_ids))]


def insert(device: Device) -> bool:
    """Add the device and count it in its app, atomically. False, changing nothing, when a
    device with its id exists already (or the app does not)."""
    record = DeviceRecord(
        device.device_id,
        app_id=device.app_id,
        user_id=device.user_id,
        app_device=app_device_key(device.app_id, device.device_id),
        platform=device.platform,
        channel=device.channel,
        address_sealed=device.address_sealed,
        owner_issuer=device.owner_issuer,
        user_agent=device.user_agent,
        created_at=device.created_at,
        last_seen_at=device.last_seen_at,
    )

    def insert_and_count() -> None:
        with transaction() as tx:
            tx.save(record, condition=DeviceRecord.device_id.does_not_exist())
            tx.update(
                AppRecord(device.app_id),
                actions=[AppRecord.device_count.add(1)],
                condition=AppRecord.app_id.exists(),
            )

    return conditional(insert_and_count)


def refresh(device: Device) -> bool:
    """Overwrite who registered an existing device of the same app, and when (a token
    registered again, perhaps by another user). False when there is no such device."""
    actions = [
        DeviceRecord.user_id.set(device.user_id),
        DeviceRecord.platform.set(device.platform),
        DeviceRecord.address_sealed.set(device.address_sealed),
        DeviceRecord.owner_issuer.set(device.owner_issuer),
        DeviceRecord.last_seen_at.set(device.last_seen_at),
        DeviceRecord.user_agent.set(device.user_agent)
        if device.user_agent is not None
        else DeviceRecord.user_agent.remove(),
    ]
    condition = DeviceRecord.device_id.exists() & (DeviceRecord.app_id == device.app_id)
    return conditional(
        lambda: DeviceRecord(device.device_id).update(actions=actions, condition=condition)
    )


def remove(device: Device) -> bool:
    """Delete the device and uncount it, atomically. False if it was gone already."""

    def delete_and_uncount() -> None:
        with transaction() as tx:
            tx.delete(DeviceRecord(device.device_id), condition=DeviceRecord.device_id.exists())
            tx.update(
                AppRecord(device.app_id),
                actions=[AppRecord.device_count.add(-1)],
                condition=AppRecord.app_id.exists(),
            )

    return conditional(delete_and_uncount)


def of_user(user_id: str, *, app_id: str | None = None, limit: int | None = None) -> list[Device]:
    """The devices of everyone called `user_id` (of every issuer), in one app or in all."""
    condition = DeviceRecord.app_device.startswith(f"{app_id}#") if app_id is not None else None
    query = DeviceRecord.by_user.query(user_id, condition, limit=limit)
    return [_device(record) for record in query]


def page_of_app(app_id: str, *, limit: int, after: str | None) -> tuple[list[Device], str | None]:
    """Up to `limit` of an app's devices after the device id `after`, and the id to continue
    after (None at the end)."""
    start = {"device_id": {"S": after}, "app_id": {"S": app_id}} if after is not None else None
    page = DeviceRecord.by_app.query(app_id, limit=limit, last_evaluated_key=start)
    found = [_device(record) for record in page]
    last = page.last_evaluated_key
    return found, (last["device_id"]["S"] if last and len(found) == limit else None)
