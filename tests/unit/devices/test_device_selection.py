"""Which of a user's devices a send reaches, without AWS: only the user `(issuer, sub)`'s,
most recently seen first, at most the limit."""

from __future__ import annotations

from pushgate.devices import service
from pushgate.storage.devices import Device

USERS = "https://users.example"


def _device(device_id: str, last_seen_at: str, owner: str = USERS) -> Device:
    return Device(
        device_id=device_id,
        app_id="demo",
        user_id="alice",
        platform="android",
        channel="fcm",
        address_sealed="sealed",
        owner_issuer=owner,
        user_agent=None,
        created_at="2026-01-01T00:00:00Z",
        last_seen_at=last_seen_at,
    )


def test_user_devices_are_the_owners_most_recent_first_within_the_limit(monkeypatch):
    stored = [
        _device("dev_old", "2026-01-01T00:00:00Z"),
        _device("dev_new", "2026-03-01T00:00:00Z"),
        _device("dev_theirs", "2026-04-01T00:00:00Z", owner="https://other.example"),
        _device("dev_mid", "2026-02-01T00:00:00Z"),
    ]
    asked = {}

    def of_user(user_id, *, app_id=None, limit=None):
        asked.update(user_id=user_id, app_id=app_id)
        return stored

    monkeypatch.setattr(service.registry, "of_user", of_user)
    everything = service.user_devices("demo", "alice", USERS, limit=None)
    two = service.user_devices("demo", "alice", USERS, limit=2)

    assert [d.device_id for d in everything] == ["dev_new", "dev_mid", "dev_old"]
    assert [d.device_id for d in two] == ["dev_new", "dev_mid"]
    assert asked == {"user_id": "alice", "app_id": "demo"}


def test_user_devices_of_no_issuer_are_none(monkeypatch):
    monkeypatch.setattr(service.registry, "of_user", lambda *a, **k: [_device("dev", "t")])
    assert service.user_devices("demo", "alice", None, limit=None) == []
