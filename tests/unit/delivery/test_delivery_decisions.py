"""The deliver function's decisions, without AWS or a network: which devices a job goes to,
and what each device's attempts end as (delivered, dead, failed, expired, or re-queued with
which delay), from scripted provider answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from pushgate import clock
from pushgate.delivery import service
from pushgate.delivery.app_keys import AppKeys
from pushgate.devices.addresses import FcmAddress
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.providers import Outcome
from pushgate.storage.devices import Device

NOW = 1_800_000_000.0
USERS = "https://users.example"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    previous = clock.set_source(lambda: NOW)
    yield
    clock.set_source(previous)


def _device(device_id: str = "dev_a", **fields) -> Device:
    values = {
        "device_id": device_id,
        "app_id": "demo",
        "user_id": "alice",
        "platform": "android",
        "channel": "fcm",
        "address_sealed": "sealed",
        "owner_issuer": USERS,
        "user_agent": None,
        "created_at": "t",
        "last_seen_at": "t",
    }
    return Device(**(values | fields))


def _app(**fields) -> AppKeys:
    values = {
        "app_id": "demo",
        "active": True,
        "user_issuer": USERS,
        "wants_receipts": False,
        "vapid_key": None,
        "vapid_subject": None,
        "fcm_account": None,
        "loaded_at": NOW,
    }
    return AppKeys(**(values | fields))


def _job(ttl: float = 3600, **fields) -> DeliveryJob:
    values = {
        "notification_id": "ntf_" + "0" * 26,
        "app_id": "demo",
        "user_id": "alice",
        "message": MessageContent(title="t", body="b"),
        "created_at": NOW,
        "expires_at": NOW + ttl,
    }
    return DeliveryJob(**(values | fields))


@dataclass
class Runtime:
    limit: asyncio.Semaphore


@pytest.fixture
def provider(monkeypatch):
    """Scripted provider answers, one per send, and the count of sends."""

    class Script:
        answers: list[Outcome] = []
        sends = 0

    async def send(rt, job, app, address, device_id):
        Script.sends += 1
        return Script.answers.pop(0) if Script.answers else Outcome.delivered(200)

    async def no_wait(seconds):
        return None

    monkeypatch.setattr(service, "send", send)
    monkeypatch.setattr(service, "open_address", lambda device: FcmAddress("t" * 40))
    monkeypatch.setattr(service.asyncio, "sleep", no_wait)
    Script.answers, Script.sends = [], 0
    return Script


def _attempt(app=None, job=None, *, attempts=0, max_attempts=8, base=5.0):
    async def run():
        rt = Runtime(asyncio.Semaphore(4))
        return await service._deliver_one(
            rt,  # type: ignore[arg-type]
            job or _job(),
            _app() if app is None else app,
            _device(),
            attempts=attempts,
            max_attempts=max_attempts,
            retry_base=base,
        )

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("answer", "final"),
    [
        (Outcome.delivered(200), "delivered"),
        (Outcome.invalid_token("fcm:UNREGISTERED", 404), "invalid_token"),
        (Outcome.failed("webpush:vapid_rejected", 403), "failed"),
    ],
)
def test_a_final_answer_ends_the_device_after_one_send(provider, answer, final):
    provider.answers = [answer]
    result = _attempt()
    assert (result.final, result.attempts, provider.sends) == (final, 1, 1)


def test_a_passing_failure_is_retried_quickly_in_the_invocation(provider):
    provider.answers = [Outcome.retry("fcm:503", 503), Outcome.delivered(200)]
    result = _attempt()
    assert (result.final, result.attempts, provider.sends) == ("delivered", 2, 2)


def test_a_device_still_failing_after_the_quick_tries_is_requeued_with_the_backoff(provider):
    provider.answers = [Outcome.retry("fcm:503", 503)] * 3
    result = _attempt(base=5.0)
    assert (result.final, result.attempts, provider.sends) == (None, 3, 3)
    assert 4.0 <= result.retry_delay <= 6.0  # base 5 s, ±20%


def test_a_timed_out_device_is_not_tried_again_in_the_invocation(provider):
    provider.answers = [Outcome.retry("timeout")]
    result = _attempt()
    assert (result.final, result.attempts, provider.sends) == (None, 1, 1)


def test_a_long_retry_after_waits_for_the_requeue_and_is_honoured(provider):
    provider.answers = [Outcome.retry("fcm:429", 429, retry_after=120.0)]
    result = _attempt()
    assert (result.final, provider.sends) == (None, 1)
    assert result.retry_delay == 120.0


def test_a_device_out_of_attempts_has_failed(provider):
    provider.answers = [Outcome.retry("fcm:503", 503)]
    result = _attempt(attempts=7, max_attempts=8)
    assert (result.final, result.attempts, result.outcome.error) == ("failed", 8, "fcm:503")


def test_a_retry_that_would_land_past_the_ttl_has_expired(provider):
    provider.answers = [Outcome.retry("fcm:503", 503)] * 3
    result = _attempt(job=_job(ttl=3), base=5.0)
    assert result.final == "expired"


@pytest.mark.parametrize(
    ("app", "job", "error", "final"),
    [
        (_app(active=False), _job(), "app_disabled", "failed"),
        (None, _job(), "app_deleted", "failed"),
        (_app(), _job(ttl=0), "ttl_expired", "expired"),
    ],
)
def test_nothing_is_sent_for_a_stopped_app_or_an_expired_job(provider, app, job, error, final):
    result = asyncio.run(
        service._deliver_one(
            Runtime(asyncio.Semaphore(1)),  # type: ignore[arg-type]
            job,
            app,
            _device(),
            attempts=0,
            max_attempts=8,
            retry_base=5.0,
        )
    )
    assert (result.final, result.outcome.error, provider.sends) == (final, error, 0)


# ---------------------------------------------------------------- which devices


def test_a_first_attempt_goes_to_the_users_devices_of_the_apps_user_issuer(monkeypatch):
    asked = {}

    def user_devices(app_id, user_id, owner, *, limit):
        asked.update(app_id=app_id, user_id=user_id, owner=owner, limit=limit)
        return [_device()]

    monkeypatch.setattr(service, "user_devices", user_devices)
    previous, devices, gone = asyncio.run(service._load(_job(), _app(), redelivered=False))
    assert (previous, [d.device_id for d in devices], gone) == (None, ["dev_a"], [])
    assert asked == {"app_id": "demo", "user_id": "alice", "owner": USERS, "limit": 50}


def test_a_retry_goes_only_to_its_devices_that_are_still_the_users(monkeypatch):
    stored = [
        _device("dev_kept"),
        _device("dev_moved", user_id="bob"),
        _device("dev_other_issuer", owner_issuer="https://other.example"),
        _device("dev_other_app", app_id="other"),
    ]
    monkeypatch.setattr(service.registry, "get_many", lambda ids: stored)
    monkeypatch.setattr(service.reads.notifications, "get_many", lambda ids: {})
    ids = ["dev_kept", "dev_moved", "dev_other_issuer", "dev_other_app", "dev_removed"]
    job = _job(attempt=1, device_ids=ids)
    _, devices, gone = asyncio.run(service._load(job, _app(), redelivered=False))
    assert [d.device_id for d in devices] == ["dev_kept"]
    assert gone == ["dev_moved", "dev_other_issuer", "dev_other_app", "dev_removed"]


def test_an_app_without_a_user_issuer_reaches_no_device(monkeypatch):
    monkeypatch.setattr(service.registry, "get_many", lambda ids: [_device()])
    monkeypatch.setattr(service.reads.notifications, "get_many", lambda ids: {})
    job = _job(attempt=1, device_ids=["dev_a"])
    _, devices, gone = asyncio.run(service._load(job, _app(user_issuer=None), redelivered=False))
    assert (devices, gone) == ([], ["dev_a"])
