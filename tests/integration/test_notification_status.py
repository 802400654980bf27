"""A notification's status before and after its first delivery attempt: one item per send
request until then (read as queued), the notification's own item from its first outcomes."""

from __future__ import annotations

import uuid

import pytest

from pushgate import clock, ids
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.delivery.outcomes import DeviceResult, _record
from pushgate.errors import NotFoundError
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.notifications.service import Recipient, accept, notification_status
from pushgate.providers import Outcome
from pushgate.storage.apps import AppRecord
from pushgate.storage.devices import DeviceRecord
from pushgate.storage.notifications import NotificationRecord, NotificationRequestRecord

ADMIN = Principal("admin", "ops", "test", frozenset({"push:admin"}))
MESSAGE = MessageContent(title="Hi", body="There")


def _service(app_id: str) -> Principal:
    return Principal("service", app_id, "test", frozenset({"push:send"}))


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    return app_id


def test_status_of_a_bulk_send_reads_each_user_queued_from_one_request_item(app_id):
    users = [f"user-{index}" for index in range(40)]
    notification_ids = accept(app_id, [Recipient(user, MESSAGE) for user in users])

    assert len(set(notification_ids)) == len(users)
    group = {ids.group_key(notification_id)[0] for notification_id in notification_ids}
    assert len(group) == 1
    request = NotificationRequestRecord.get(group.pop())
    assert request.user_ids == users
    for notification_id, user in zip(notification_ids, users, strict=True):
        status = notification_status(_service(app_id), notification_id)
        assert (status.notification_id, status.app_id, status.user_id) == (
            notification_id,
            app_id,
            user,
        )
        assert status.created_at == request.created_at
        assert status.deliveries == []
    # No notification has an item of its own before it is delivered.
    assert NotificationRecord.count(notification_ids[0]) == 0


def test_status_is_404_for_other_apps_ids_outside_the_request_and_unminted_ids(app_id):
    [notification_id] = accept(app_id, [Recipient("alice", MESSAGE)])
    stem, index = ids.group_key(notification_id)
    assert index == 0
    beyond = stem + "01"
    unminted = stem + "0u"  # 'u' is not a Crockford base-32 digit
    other_app = _service(f"app-{uuid.uuid4().hex[:12]}")

    assert notification_status(ADMIN, notification_id).user_id == "alice"
    for principal, candidate in (
        (other_app, notification_id),
        (_service(app_id), beyond),
        (_service(app_id), unminted),
        (_service(app_id), "ntf_" + "0" * 26),
    ):
        with pytest.raises(NotFoundError):
            notification_status(principal, candidate)


def test_status_of_a_gateway_instances_notification_is_for_admins_only(pushgate_env):
    app_id = f"takos:tenant-{uuid.uuid4().hex[:8]}"
    now = clock.rfc3339()
    AppRecord(app_id, enabled=True, daily_quota=10, created_at=now, updated_at=now).save()
    [notification_id] = accept(app_id, [Recipient("alice", MESSAGE)])

    assert notification_status(ADMIN, notification_id).app_id == app_id
    with pytest.raises(NotFoundError):
        notification_status(_service(app_id), notification_id)


def test_status_after_the_first_outcomes_comes_from_the_notifications_item(app_id):
    sent_at = 1_795_327_200.25
    previous = clock.set_source(lambda: sent_at)
    try:
        [notification_id] = accept(app_id, [Recipient("alice", MESSAGE)])
    finally:
        clock.set_source(previous)
    queued = notification_status(_service(app_id), notification_id)
    job = DeliveryJob(  # what accept queued for it
        notification_id=notification_id,
        app_id=app_id,
        user_id="alice",
        message=MESSAGE,
        created_at=sent_at,
        expires_at=sent_at + MESSAGE.ttl,
    )
    phone, laptop = (_device(app_id, platform) for platform in ("android", "web"))

    _record(
        job,
        [
            DeviceResult(phone, Outcome.delivered(200), 1, "delivered"),
            DeviceResult(laptop, Outcome.failed("unavailable", 503), 1, None),
        ],
        first_record=True,
    )
    first = notification_status(_service(app_id), notification_id)
    _record(
        job.model_copy(update={"attempt": 1, "device_ids": [laptop.device_id]}),
        [DeviceResult(laptop, Outcome.delivered(201), 2, "delivered")],
        first_record=False,
    )
    later = notification_status(_service(app_id), notification_id)

    assert first.user_id == "alice"
    assert {d.device_id: (d.status, d.attempts) for d in first.deliveries} == {
        phone.device_id: ("delivered", 1),
        laptop.device_id: ("queued", 1),
    }
    assert {d.device_id: (d.status, d.attempts) for d in later.deliveries} == {
        phone.device_id: ("delivered", 1),
        laptop.device_id: ("delivered", 2),
    }
    assert queued.created_at == first.created_at == later.created_at
    assert queued.created_at.startswith("2026-11-22T06:00:00.25")


def test_group_ids_are_well_formed_distinct_and_map_back_to_their_index():
    members = ids.new_group("ntf", ids.MAX_GROUP_SIZE)

    assert len(set(members)) == ids.MAX_GROUP_SIZE
    assert all(len(member) == len("ntf_") + 26 for member in members)
    assert [ids.group_key(member) for member in members] == [
        (members[0][:-2], index) for index in range(ids.MAX_GROUP_SIZE)
    ]
    assert ids.group_key(ids.new_group("ntf", 1)[0])[0] != members[0][:-2]
    for count in (0, ids.MAX_GROUP_SIZE + 1):
        with pytest.raises(ValueError, match="a group holds"):
            ids.new_group("ntf", count)


def _device(app_id: str, platform: str) -> DeviceRecord:
    device_id = f"dev_{uuid.uuid4().hex}"
    return DeviceRecord(device_id, app_id=app_id, user_id="alice", platform=platform)
