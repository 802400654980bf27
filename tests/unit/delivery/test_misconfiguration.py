"""VAPID refusals told to operators: a metric for each, one log line per app per hour, and a
bounded memory of the apps already logged."""

from __future__ import annotations

import logging

import pytest

from pushgate.delivery import misconfiguration
from pushgate.delivery.misconfiguration import MisconfigurationReporter
from pushgate.providers import Outcome

REFUSED = Outcome.failed("webpush:vapid_rejected:BadJwtToken", 403)
REFUSED_PLAIN = Outcome.failed("webpush:vapid_rejected", 401)
OTHERS = [
    Outcome.delivered(201),
    Outcome.failed("webpush:413", 413),
    Outcome.invalid_token("webpush:410", 410),
    Outcome.failed("webpush:vapid_rejected_elsewhere"),
]


class Clock:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


class Metrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, *, name: str, unit: str, value: float) -> None:
        self.added.append((name, unit, value))


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> Metrics:
    recorded = Metrics()
    monkeypatch.setattr(misconfiguration, "metrics", recorded)
    return recorded


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


def _refusal_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, int]]:
    return [
        (r.app_id, r.error, r.refused)  # type: ignore[attr-defined]
        for r in caplog.records
        if "refused the app's VAPID credentials" in r.getMessage()
    ]


def test_reporter_counts_every_refusal_and_logs_the_app_once(metrics, lines) -> None:
    clock = Clock()
    reporter = MisconfigurationReporter(now=clock)

    reporter.report("shop", [REFUSED, REFUSED, Outcome.delivered(201)])
    clock.value += 3599
    reporter.report("shop", [REFUSED_PLAIN])

    assert metrics.added == [
        ("WebPushVapidRejected", "Count", 2),
        ("WebPushVapidRejected", "Count", 1),
    ]
    assert _refusal_lines(lines) == [("shop", "webpush:vapid_rejected:BadJwtToken", 2)]


def test_reporter_logs_the_app_again_after_an_hour_and_other_apps_at_once(metrics, lines) -> None:
    clock = Clock()
    reporter = MisconfigurationReporter(now=clock)

    reporter.report("shop", [REFUSED])
    reporter.report("news", [REFUSED_PLAIN])
    clock.value += 3600
    reporter.report("shop", [REFUSED])

    assert _refusal_lines(lines) == [
        ("shop", "webpush:vapid_rejected:BadJwtToken", 1),
        ("news", "webpush:vapid_rejected", 1),
        ("shop", "webpush:vapid_rejected:BadJwtToken", 1),
    ]


def test_reporter_ignores_every_other_outcome(metrics, lines) -> None:
    reporter = MisconfigurationReporter(now=Clock())

    reporter.report("shop", OTHERS)

    assert metrics.added == []
    assert _refusal_lines(lines) == []
    assert reporter.remembered() == 0


def test_reporter_remembers_at_most_its_capacity_forgetting_the_oldest(metrics, lines) -> None:
    clock = Clock()
    reporter = MisconfigurationReporter(capacity=3, now=clock)

    for app in ("a", "b", "c", "d"):
        reporter.report(app, [REFUSED])
        clock.value += 1
    reporter.report("b", [REFUSED])  # still remembered: no second line
    reporter.report("a", [REFUSED])  # forgotten first: logged again

    assert reporter.remembered() == 3
    assert [app for app, _, _ in _refusal_lines(lines)] == ["a", "b", "c", "d", "a"]
