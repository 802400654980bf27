"""A delivery job's subsegment: recorded whole once the job is done, from its start, with
counts and the app id as annotations and nothing else of the job."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from pushgate.delivery import tracing
from pushgate.delivery.outcomes import DeviceResult
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.providers import Outcome
from pushgate.storage.devices import DeviceRecord

JOB = DeliveryJob(
    notification_id="ntf_1",
    app_id="shop",
    user_id="alice",
    message=MessageContent(title="secret title", body="secret body"),
    created_at=1000.0,
    expires_at=4600.0,
    attempt=2,
)


def _result(final: str | None, outcome: Outcome) -> DeviceResult:
    return DeviceResult(DeviceRecord("dev_x"), outcome, 1, final)  # type: ignore[arg-type]


class Subsegment:
    def __init__(self) -> None:
        self.start_time = 0.0
        self.annotations: dict[str, Any] = {}
        self.exceptions: list[BaseException] = []

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value

    def add_exception(self, exception: BaseException, stack: Any) -> None:
        self.exceptions.append(exception)


class Provider:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, Subsegment]] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str) -> Iterator[Subsegment]:
        subsegment = Subsegment()
        self.recorded.append((name, subsegment))
        yield subsegment


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Provider:
    fake = Provider()
    monkeypatch.setattr(tracing, "tracer", type("Tracer", (), {"provider": fake})())
    return fake


def test_record_job_annotates_counts_per_outcome_and_the_app(provider: Provider) -> None:
    results = [
        _result("delivered", Outcome.delivered(201)),
        _result("delivered", Outcome.delivered(201)),
        _result("invalid_token", Outcome.invalid_token("webpush:410", 410)),
        _result(None, Outcome.retry("webpush:503", 503)),
    ]

    tracing.record_job(JOB, results, started=1234.5, redelivered=True)

    ((name, subsegment),) = provider.recorded
    assert name == "## delivery job"
    assert subsegment.start_time == 1234.5
    assert subsegment.annotations == {
        "app_id": "shop",
        "attempt": 2,
        "redelivered": True,
        "devices": 4,
        "delivered": 2,
        "failed": 0,
        "invalid_token": 1,
        "expired": 0,
        "retrying": 1,
    }
    assert subsegment.exceptions == []


def test_record_job_of_a_failed_job_records_the_error_and_no_devices(provider: Provider) -> None:
    error = RuntimeError("could not re-queue a retry")

    tracing.record_job(JOB, [], started=1.0, redelivered=False, error=error)

    ((_, subsegment),) = provider.recorded
    assert subsegment.annotations["devices"] == 0
    assert subsegment.exceptions == [error]


def test_record_job_without_a_segment_records_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    class Missing:
        @contextlib.contextmanager
        def in_subsegment(self, name: str) -> Iterator[None]:
            yield None

    monkeypatch.setattr(tracing, "tracer", type("Tracer", (), {"provider": Missing()})())

    tracing.record_job(JOB, [], started=1.0, redelivered=False)  # does not raise
