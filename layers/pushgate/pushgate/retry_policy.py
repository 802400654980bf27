"""When to try again: one exponential, jittered backoff for deliveries and receipts, never
sooner than a `Retry-After` asks and never longer than one SQS delay. Pure functions."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime

# The longest delay SQS can give a message (DelaySeconds).
MAX_DELAY_SECONDS = 900
# Re-queued retries spread ±20% around the doubling; quick in-invocation retries, ±50%.
REQUEUE_JITTER = (0.8, 1.2)
QUICK_JITTER = (0.5, 1.5)

# A peer asking for more than a day is treated as asking for a day: nothing is retried past
# a notification's TTL or a receipt's 24 h anyway.
MAX_RETRY_AFTER = 24 * 3600.0
_DELTA_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,6})?")

Uniform = Callable[[float, float], float]


def backoff(
    base: float,
    exponent: int,
    *,
    retry_after: float | None = None,
    jitter: tuple[float, float] = REQUEUE_JITTER,
    uniform: Uniform = random.uniform,
) -> float:
    """`base * 2**exponent`, jittered, at least `retry_after`, at most MAX_DELAY_SECONDS."""
    delay = base * (2**exponent) * uniform(*jitter)
    return min(float(MAX_DELAY_SECONDS), max(delay, retry_after or 0.0))


def sqs_delay(seconds: float, *, at_least: int = 0) -> int:
    """A delay as SQS takes it: whole seconds, `at_least`..MAX_DELAY_SECONDS."""
    return max(at_least, min(MAX_DELAY_SECONDS, round(seconds)))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (RFC 9110 §10.2.3): delta-seconds or an
    HTTP-date, clamped to [0, MAX_RETRY_AFTER]. None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return min(float(text), MAX_RETRY_AFTER)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 850 and asctime dates carry no zone: they are GMT
        moment = moment.replace(tzinfo=UTC)
    return min(max(0.0, moment.timestamp() - now), MAX_RETRY_AFTER)
