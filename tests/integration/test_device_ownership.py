"""Whose devices are whose, against the emulator's tables: a user is (issuer, sub); a user has at
most `max_devices_per_user` devices in an app; a delivery retry reaches only devices still the
user's; registration rate limits count per (issuer, sub)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from pushgate import clock, settings
from pushgate.delivery import app_keys
from pushgate.delivery import service as delivery
from pushgate.devices import service as devices
from pushgate.devices.addresses import FcmAddress
from pushgate.errors import TooManyRequestsError
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.storage.apps import AppRecord
from pushgate.storage.devices import DeviceRecord
from pushgate.storage.notifications import NotificationRecord

ISSUER = "https://users.example"
OTHER = "https://other-users.example"


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"own-{uuid.uuid4().hex[:10]}"
    now = clock.rfc3339()
    AppRecord(
        app_id,
        enabled=True,
        daily_quota=100,
        issuer=ISSUER,
        device_count=0,
        created_at=now,
        updated_at=now,
    ).save()
    app_keys.clear()
    return app_id


def _register(app_id: str, user: str, owner: str = ISSUER) -> str:
    token = f"own-{uuid.uuid4().hex}:APA91b" + "o" * 60
    registration = devices.upsert_device(
        app_id=app_id,
        user_id=user,
        platform="android",
        address=FcmAddress(token),
        owner=owner,
        user_agent=None,
    )
    return registration.device_id


def _device_count(app_id: str) -> int:
    return int(AppRecord.get(app_id, consistent_read=True).device_count)


def test_registration_beyond_the_cap_replaces_the_least_recently_seen(app_id, monkeypatch):
    monkeypatch.setenv("PUSHGATE_MAX_DEVICES_PER_USER", "3")
    settings.get_settings.cache_clear()
    moments = iter(range(1_800_000_000, 1_800_000_100))
    previous = clock.set_source(lambda: float(next(moments)))
    try:
        first, second, third = (_register(app_id, "alice") for _ in range(3))
        others = _register(app_id, "alice", owner=OTHER)  # another issuer's alice
        fourth = _register(app_id, "alice")
    finally:
        clock.set_source(previous)

    kept = devices.user_devices(app_id, "alice", ISSUER, limit=None)
    assert [d.device_id for d in kept] == [fourth, third, second]
    with pytest.raises(DeviceRecord.DoesNotExist):
        DeviceRecord.get(first)
    assert [d.device_id for d in devices.user_devices(app_id, "alice", OTHER, limit=None)] == [
        others
    ]
    assert _device_count(app_id) == 4


def test_user_devices_are_the_owners_only_most_recent_first_within_the_limit(app_id):
    moments = iter(range(1_800_000_000, 1_800_000_100))
    previous = clock.set_source(lambda: float(next(moments)))
    try:
        mine = [_register(app_id, "alice") for _ in range(3)]
        _register(app_id, "alice", owner=OTHER)
        _register(app_id, "bob")
    finally:
        clock.set_source(previous)
    assert [d.device_id for d in devices.user_devices(app_id, "alice", ISSUER, limit=2)] == [
        mine[2],
        mine[1],
    ]
    assert devices.user_devices(app_id, "alice", None, limit=None) == []


def _job(app_id: str, user: str, device_ids: list[str]) -> DeliveryJob:
    now = clock.epoch()
    return DeliveryJob(
        notification_id="ntf_" + uuid.uuid4().hex[:26],
        app_id=app_id,
        user_id=user,
        message=MessageContent(title="t", body="b"),
        created_at=now,
        expires_at=now + 600,
        attempt=1,
        device_ids=device_ids,
    )


def test_delivery_retry_sends_nothing_to_a_device_that_moved_to_another_user(app_id):
    # Given alice's device was owed a retry, then the token was registered again by bob
    device_id = _register(app_id, "alice")
    job = _job(app_id, "alice", [device_id])
    NotificationRecord(
        job.notification_id,
        app_id=app_id,
        user_id="alice",
        created_at=clock.rfc3339(),
        expires_at=int(clock.epoch()) + 600,
        deliveries={
            device_id: {
                "platform": "android",
                "status": "queued",
                "error": "fcm:503",
                "attempts": 3,
                "updated_at": clock.rfc3339(),
            }
        },
    ).save()
    DeviceRecord(device_id).update(actions=[DeviceRecord.user_id.set("bob")])
    sent: list[object] = []
    original = delivery.send

    async def recording_send(*args, **kwargs):
        sent.append(args)
        return await original(*args, **kwargs)

    delivery.send = recording_send  # type: ignore[assignment]
    try:
        # When the retry runs
        asyncio.run(delivery.deliver(job))
    finally:
        delivery.send = original  # type: ignore[assignment]
    # Then nothing was sent and alice's notification says the device is gone
    assert sent == []
    entry = NotificationRecord.get(job.notification_id).deliveries.as_dict()[device_id]
    assert (entry["status"], entry["error"], entry["attempts"]) == ("failed", "device_gone", 3)


def test_registration_rate_limit_counts_per_issuer_and_user(app_id):
    for _ in range(devices.REGISTRATIONS_PER_HOUR):
        devices.take_registration_slot(app_id, ISSUER, "alice")
    with pytest.raises(TooManyRequestsError) as limited:
        devices.take_registration_slot(app_id, ISSUER, "alice")
    assert limited.value.retry_after > 0
    devices.take_registration_slot(app_id, OTHER, "alice")  # another issuer's alice
    devices.take_registration_slot(app_id, ISSUER, "bob")
