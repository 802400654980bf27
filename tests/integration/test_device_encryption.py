"""Push addresses at rest: sealed, and bound to the row they belong to."""

from __future__ import annotations

import uuid

import pytest

from pushgate.devices.addresses import FcmAddress
from pushgate.devices.service import open_address, upsert_device
from pushgate.sealing import FieldDecryptionError
from pushgate.storage.apps import AppRecord
from pushgate.storage.devices import DeviceRecord


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    AppRecord(app_id, enabled=True, daily_quota=10, created_at="t", updated_at="t").save()
    return app_id


def _device(app_id: str, user: str) -> tuple[str, FcmAddress]:
    address = FcmAddress("tok" + uuid.uuid4().hex + "x" * 40)
    registration = upsert_device(
        app_id=app_id,
        user_id=user,
        platform="android",
        address=address,
        owner="test",
        user_agent=None,
    )
    return registration.device_id, address


def test_device_address_opens_on_its_own_row(app_id):
    device_id, address = _device(app_id, "alice")
    assert open_address(DeviceRecord.get(device_id)) == address


def test_device_ciphertext_copied_to_another_row_does_not_open(app_id):
    device_a, _ = _device(app_id, "alice")
    device_b, _ = _device(app_id, "bob")
    stolen = DeviceRecord.get(device_a).address_sealed
    DeviceRecord(device_b).update(actions=[DeviceRecord.address_sealed.set(stolen)])
    with pytest.raises(FieldDecryptionError):
        open_address(DeviceRecord.get(device_b))


def test_device_upsert_counts_each_address_once(app_id):
    address = FcmAddress("tok" + uuid.uuid4().hex + "y" * 40)
    for user in ("a", "b", "c"):
        upsert_device(
            app_id=app_id,
            user_id=user,
            platform="ios",
            address=address,
            owner="test",
            user_agent=None,
        )
    assert AppRecord.get(app_id).device_count == 1
