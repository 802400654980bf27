"""The one backoff deliveries and receipts share: doubling, jittered, never sooner than a
Retry-After, never past one SQS delay; and SQS's whole-second delays."""

from __future__ import annotations

import pytest

from pushgate import retry_policy
from pushgate.retry_policy import MAX_DELAY_SECONDS, backoff, sqs_delay


def _fixed(value: float):
    return lambda low, high: value


@pytest.mark.parametrize(("exponent", "expected"), [(0, 5.0), (1, 10.0), (3, 40.0)])
def test_backoff_doubles_from_its_base(exponent, expected):
    assert backoff(5.0, exponent, uniform=_fixed(1.0)) == expected


def test_backoff_is_jittered_within_its_bounds():
    seen: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        seen.append((low, high))
        return high

    assert backoff(10.0, 0, uniform=uniform) == pytest.approx(12.0)
    assert backoff(10.0, 0, jitter=retry_policy.QUICK_JITTER, uniform=uniform) == 15.0
    assert seen == [retry_policy.REQUEUE_JITTER, retry_policy.QUICK_JITTER]


def test_backoff_waits_at_least_what_retry_after_asks():
    assert backoff(1.0, 0, retry_after=30.0, uniform=_fixed(1.0)) == 30.0
    assert backoff(8.0, 2, retry_after=3.0, uniform=_fixed(1.0)) == 32.0


def test_backoff_never_exceeds_one_sqs_delay():
    assert backoff(5.0, 20, uniform=_fixed(1.2)) == MAX_DELAY_SECONDS
    assert backoff(1.0, 0, retry_after=86_400.0, uniform=_fixed(1.0)) == MAX_DELAY_SECONDS


@pytest.mark.parametrize(
    ("seconds", "at_least", "expected"),
    [(0.2, 0, 0), (0.2, 1, 1), (1.5, 0, 2), (2.4, 1, 2), (5000.0, 0, MAX_DELAY_SECONDS)],
)
def test_sqs_delay_is_whole_seconds_within_what_sqs_takes(seconds, at_least, expected):
    assert sqs_delay(seconds, at_least=at_least) == expected
