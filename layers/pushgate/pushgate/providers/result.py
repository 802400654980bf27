"""What a provider answered, as one typed value the deliver function can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal

Status = Literal["delivered", "invalid_token", "failed", "retry"]

# A push service asking for more than a day is treated as asking for a day: the deliver
# function never retries past a notification's TTL anyway.
MAX_RETRY_AFTER = 24 * 3600.0
_DELTA_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,6})?")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One delivery attempt's result.

    `error` is a short reason safe to show tenants (`"fcm:UNREGISTERED"`, `"webpush:410"`,
    `"timeout"`): built from status codes and provider enums only, never from a token,
    endpoint, URL, key or response text. `retry_after` (seconds) is set only when the
    provider said when to come back.
    """

    status: Status
    error: str | None = None
    retry_after: float | None = None
    http_status: int | None = None

    @classmethod
    def delivered(cls, http_status: int) -> Outcome:
        return cls("delivered", None, None, http_status)

    @classmethod
    def invalid_token(cls, error: str, http_status: int | None = None) -> Outcome:
        return cls("invalid_token", error, None, http_status)

    @classmethod
    def failed(cls, error: str, http_status: int | None = None) -> Outcome:
        return cls("failed", error, None, http_status)

    @classmethod
    def retry(
        cls, error: str, http_status: int | None = None, retry_after: float | None = None
    ) -> Outcome:
        return cls("retry", error, retry_after, http_status)


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
