"""Managed ntfy channels in-process, where a step can be made to fail or to stop dead: what
each failure leaves (nothing), what a crash leaves (a record the next call finishes), the
per-user rate limit, and the cleanup worker."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.devices.service import delete_device, list_account_devices
from pushgate.errors import TooManyRequestsError
from pushgate.managed_ntfy import handler, service
from pushgate.managed_ntfy.config import NtfyUnavailableError
from pushgate.storage import devices as registry
from pushgate.storage import ntfy_channels
from tests.standins._script import always, fail_first

ISSUER = "https://issuer.test"
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))


class Crash(BaseException):
    """The function stopping dead (a timeout, the container gone): nothing catches it."""


@pytest.fixture
def app_id(managed_ntfy) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    return app_id


def _user(app_id: str, name: str | None = None) -> Principal:
    return Principal("user", name or f"u{uuid.uuid4().hex[:8]}", ISSUER, frozenset(), (app_id,))


def _key(app_id: str, user: Principal) -> str:
    return ntfy_channels.channel_key(app_id, user.issuer, user.subject)


def _devices(user: Principal) -> list[str]:
    return [d.device_id for a in list_account_devices(user).apps for d in a.devices]


def _nothing_left(managed_ntfy, app_id: str, user: Principal) -> None:
    assert managed_ntfy.accounts() == set()
    assert ntfy_channels.get(_key(app_id, user)) is None
    assert _devices(user) == []


def test_a_failed_device_step_takes_back_the_account_and_grant(managed_ntfy, app_id, monkeypatch):
    user = _user(app_id)

    def refuse(**_):
        raise registry.WriteConflictError("devices table refused")

    monkeypatch.setattr(service, "upsert_device", refuse)
    with pytest.raises(NtfyUnavailableError):
        service.enable(user, app_id)

    _nothing_left(managed_ntfy, app_id, user)
    assert [(c.route, c.status) for c in managed_ntfy.ntfy.admin_calls()][-4:] == [
        ("PUT /v1/users", 200),
        ("PUT /v1/users/access", 200),
        ("DELETE /v1/users/access", 200),
        ("DELETE /v1/users", 200),
    ]


def test_a_failed_last_step_takes_back_the_device_too(managed_ntfy, app_id, monkeypatch):
    user = _user(app_id)
    original = ntfy_channels.set_state
    monkeypatch.setattr(
        ntfy_channels,
        "set_state",
        lambda key, state, **kw: False if state == "active" else original(key, state, **kw),
    )

    with pytest.raises(NtfyUnavailableError):
        service.enable(user, app_id)

    _nothing_left(managed_ntfy, app_id, user)


def test_a_crash_between_steps_is_finished_by_the_next_call(managed_ntfy, app_id, monkeypatch):
    user = _user(app_id)
    with monkeypatch.context() as crashing:
        crashing.setattr(service, "upsert_device", lambda **_: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            service.enable(user, app_id)
    half = ntfy_channels.get(_key(app_id, user))
    accounts_after_crash = managed_ntfy.accounts()

    channel, created = service.enable(user, app_id)

    assert half is not None
    assert half.state == "provisioning"
    assert accounts_after_crash == {half.username}
    assert created is True
    assert (channel.username, channel.topic) == (half.username, half.topic)
    assert managed_ntfy.accounts() == {half.username}
    assert [g.topic for g in managed_ntfy.ntfy.grants(half.username)] == [half.topic]
    assert _devices(user) == [channel.device_id]
    assert ntfy_channels.get(_key(app_id, user)).state == "active"


def test_a_crash_during_removal_is_finished_before_a_new_set_up(managed_ntfy, app_id, monkeypatch):
    user = _user(app_id)
    first, _ = service.enable(user, app_id)
    with monkeypatch.context() as crashing:
        crashing.setattr(service, "remove_device", lambda _: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            service.disable(user, app_id)
    state_after_crash = ntfy_channels.get(_key(app_id, user)).state

    second, created = service.enable(user, app_id)

    assert state_after_crash == "removing"
    assert created is True
    assert second.username != first.username
    assert managed_ntfy.accounts() == {second.username}
    assert _devices(user) == [second.device_id]


def test_set_ups_are_limited_per_user_and_app(managed_ntfy, app_id):
    managed_ntfy.ntfy.script_admin("PUT /v1/users", always(503))
    user, other = _user(app_id), _user(app_id)

    failures = []
    for _ in range(service.PROVISIONS_PER_HOUR):
        with pytest.raises(NtfyUnavailableError) as failed:
            service.enable(user, app_id)
        failures.append(failed.value.status)
    with pytest.raises(TooManyRequestsError) as limited:
        service.enable(user, app_id)
    with pytest.raises(NtfyUnavailableError):
        service.enable(other, app_id)

    assert failures == [503] * service.PROVISIONS_PER_HOUR
    assert limited.value.status == 429
    assert managed_ntfy.accounts() == set()


def test_tests_are_limited_per_channel(managed_ntfy, app_id):
    user = _user(app_id)
    service.enable(user, app_id)

    sent = [service.test(user, app_id) for _ in range(service.TESTS_PER_HOUR)]
    with pytest.raises(TooManyRequestsError):
        service.test(user, app_id)

    assert len(set(sent)) == service.TESTS_PER_HOUR


def test_the_cleanup_worker_removes_a_disabled_apps_channels_and_retries(managed_ntfy, app_id):
    users = [_user(app_id) for _ in range(3)]
    channels = [service.enable(user, app_id)[0] for user in users]
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))
    (request,) = managed_ntfy.take_removals()
    managed_ntfy.ntfy.script_admin("DELETE /v1/users", fail_first(1, 500))

    with pytest.raises(NtfyUnavailableError):
        asyncio.run(handler.handle_record(request))
    left_after_failure = managed_ntfy.accounts()
    asyncio.run(handler.handle_record(request))  # SQS gives it out again

    assert left_after_failure == {c.username for c in channels}
    assert managed_ntfy.accounts() == set()
    assert all(ntfy_channels.get(_key(app_id, user)) is None for user in users)
    assert all(_devices(user) == [] for user in users)


def test_the_cleanup_worker_leaves_channels_made_after_the_disable(managed_ntfy, app_id):
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    kept, _ = service.enable(_user(app_id), app_id)
    (request,) = managed_ntfy.take_removals()

    asyncio.run(handler.handle_record(request))

    assert managed_ntfy.accounts() == {kept.username}


def test_the_cleanup_worker_continues_a_long_removal_in_a_new_message(
    managed_ntfy, app_id, monkeypatch
):
    monkeypatch.setattr(service, "REMOVAL_PAGE", 2)
    for _ in range(3):
        service.enable(_user(app_id), app_id)
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))
    (request,) = managed_ntfy.take_removals()

    asyncio.run(handler.handle_record(request))
    left = len(managed_ntfy.accounts())
    (continued,) = managed_ntfy.take_removals()
    asyncio.run(handler.handle_record(continued))

    assert left == 1
    assert continued.body == request.body
    assert managed_ntfy.accounts() == set()
    assert managed_ntfy.take_removals() == []


def test_deleting_the_channels_device_queues_its_removal(managed_ntfy, app_id):
    user = _user(app_id)
    channel, _ = service.enable(user, app_id)

    delete_device(user, channel.device_id)
    (request,) = managed_ntfy.take_removals()
    asyncio.run(handler.handle_record(request))

    assert managed_ntfy.accounts() == set()
    assert ntfy_channels.get(_key(app_id, user)) is None


def test_the_device_cap_trimming_a_channels_device_queues_its_removal(
    managed_ntfy, app_id, monkeypatch
):
    from pushgate import settings
    from pushgate.devices.models import RegisterDeviceRequest
    from pushgate.devices.service import register_device

    monkeypatch.setenv("PUSHGATE_MAX_DEVICES_PER_USER", "1")
    settings.get_settings.cache_clear()
    user = _user(app_id)
    service.enable(user, app_id)

    register_device(
        user,
        RegisterDeviceRequest(
            app_id=app_id,
            platform="android",
            push_token="t-" + uuid.uuid4().hex + ":APA91b" + "x" * 100,
        ),
    )
    (request,) = managed_ntfy.take_removals()
    asyncio.run(handler.handle_record(request))

    assert managed_ntfy.accounts() == set()
    assert len(_devices(user)) == 1


def test_a_removal_the_queue_refuses_is_asked_for_again_by_repeating_the_request(
    managed_ntfy, app_id, monkeypatch
):
    from pushgate.managed_ntfy import removals

    user = _user(app_id)
    channel, _ = service.enable(user, app_id)
    with monkeypatch.context() as refusing:
        refusing.setattr(removals, "send_all", lambda url, messages: list(messages))
        with pytest.raises(removals.RemovalNotQueuedError) as device_refused:
            delete_device(user, channel.device_id)
        with pytest.raises(removals.RemovalNotQueuedError):
            update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))
    kept = _devices(user)

    delete_device(user, channel.device_id)
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))  # already disabled
    queued = managed_ntfy.take_removals()

    assert (device_refused.value.status, device_refused.value.code) == (503, "queue_unavailable")
    assert kept == [channel.device_id]
    assert _devices(user) == []
    assert len(queued) == 2
