"""Accepting a send, without AWS: the whole request is counted against the app's enforced
quota or refused (429 with the seconds to UTC midnight), what could not be queued is given
back, and a stopped app or an oversized message is refused before anything is counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pushgate import clock, settings
from pushgate.errors import ForbiddenError, PayloadTooLargeError, QuotaExceededError
from pushgate.notifications import service
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import EnqueueFailedError, Recipient
from pushgate.storage.apps import App

NOW = datetime(2026, 12, 1, 23, 0, 0, tzinfo=UTC).timestamp()  # an hour to UTC midnight


class Counters:
    """The quota counter and the queue, recorded."""

    def __init__(self, monkeypatch, *, app: App, room: bool = True, failed=()) -> None:
        self.reserved: list[tuple[str, int, int]] = []
        self.released: list[tuple[str, int]] = []
        self.queued: list[str] = []
        self.requests: list[str] = []
        monkeypatch.setattr(service.apps, "get", lambda app_id, fields=None: app)
        monkeypatch.setattr(service, "reserve", self._reserve(room))
        monkeypatch.setattr(service, "release", lambda key, n: self.released.append((key, n)))
        monkeypatch.setattr(
            service.notifications,
            "put_request",
            lambda group_key, **fields: self.requests.append(group_key),
        )

        def send_all(url, messages):
            self.queued += [m.body for m in messages if m.id not in failed]
            return [m.id for m in messages if m.id in failed]

        monkeypatch.setattr(service, "send_all", send_all)

    def _reserve(self, room: bool):
        def reserve(key, amount, *, limit, expires_at):
            self.reserved.append((key, amount, limit))
            return room

        return reserve


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("DELIVERY_QUEUE_URL", "queue")
    settings.get_settings.cache_clear()
    previous = clock.set_source(lambda: NOW)
    yield
    clock.set_source(previous)
    settings.get_settings.cache_clear()


def _app(**fields) -> App:
    return App(**({"app_id": "demo", "enabled": True, "daily_quota": 10} | fields))


def _recipients(count: int, body: str = "b") -> list[Recipient]:
    return [Recipient(f"user-{n}", MessageContent(title="t", body=body)) for n in range(count)]


def test_accept_counts_the_whole_request_against_the_enforced_quota(monkeypatch):
    counters = Counters(monkeypatch, app=_app(daily_quota=500, max_daily_quota=20))
    ids = service.accept("demo", _recipients(3))
    assert len(ids) == 3
    assert counters.reserved == [("quota#demo#2026-12-01", 3, 20)]  # the smaller of the two
    assert len(counters.queued) == 3
    assert counters.released == []


def test_accept_refuses_the_whole_request_when_it_does_not_fit(monkeypatch):
    counters = Counters(monkeypatch, app=_app(), room=False)
    with pytest.raises(QuotaExceededError) as refused:
        service.accept("demo", _recipients(3))
    assert (refused.value.status, refused.value.retry_after) == (429, 3600)
    assert (counters.queued, counters.requests, counters.released) == ([], [], [])


def test_accept_gives_back_what_could_not_be_queued(monkeypatch):
    counters = Counters(monkeypatch, app=_app(), failed={"1", "2"})
    with pytest.raises(EnqueueFailedError) as failed:
        service.accept("demo", _recipients(3))
    assert failed.value.status == 503
    assert len(counters.queued) == 1
    assert counters.released == [("quota#demo#2026-12-01", 2)]


def test_accept_gives_back_everything_when_recording_fails(monkeypatch):
    counters = Counters(monkeypatch, app=_app())

    def broken(group_key, **fields):
        raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(service.notifications, "put_request", broken)
    with pytest.raises(RuntimeError):
        service.accept("demo", _recipients(2))
    assert counters.released == [("quota#demo#2026-12-01", 2)]
    assert counters.queued == []


@pytest.mark.parametrize(
    ("app", "code"),
    [(_app(suspended=True), "app_suspended"), (_app(enabled=False), "push_disabled")],
)
def test_accept_refuses_a_stopped_app_before_counting(monkeypatch, app, code):
    counters = Counters(monkeypatch, app=app)
    with pytest.raises(ForbiddenError) as refused:
        service.accept("demo", _recipients(1))
    assert refused.value.code == code
    assert counters.reserved == []


def test_accept_refuses_a_message_too_big_for_a_push_before_counting(monkeypatch):
    counters = Counters(monkeypatch, app=_app())
    with pytest.raises(PayloadTooLargeError):
        service.accept("demo", _recipients(1, body="é" * 2000))
    assert counters.reserved == []
