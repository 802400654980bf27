"""The one clock: every timestamp pushgate writes or compares comes from here."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], float] = time.time


def epoch() -> float:
    """Seconds since the Unix epoch, as a float."""
    return _source()


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.fromtimestamp(_source(), UTC)


def rfc3339(moment: datetime | float | None = None) -> str:
    """RFC 3339 UTC with a `Z` suffix and millisecond precision (the API's time format)."""
    if moment is None:
        moment = now()
    elif isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_day(moment: float | None = None) -> str:
    """The UTC calendar day (YYYY-MM-DD) that quotas are counted in."""
    return datetime.fromtimestamp(epoch() if moment is None else moment, UTC).strftime("%Y-%m-%d")


def hour_start(moment: float | None = None) -> int:
    """The epoch second at which the UTC hour holding `moment` (default: now) began."""
    current = epoch() if moment is None else moment
    return int(current) // 3600 * 3600


def utc_hour(moment: float | None = None) -> str:
    """The UTC hour holding `moment` (default: now) as RFC 3339, `YYYY-MM-DDTHH:00:00Z`: the
    hour delivery statistics are counted in."""
    start = datetime.fromtimestamp(hour_start(moment), UTC)
    return start.strftime("%Y-%m-%dT%H:00:00Z")


def seconds_to_utc_midnight(moment: float | None = None) -> int:
    """Whole seconds (at least 1) until the next UTC midnight, for quota `Retry-After`."""
    current = epoch() if moment is None else moment
    return max(1, 86_400 - int(current) % 86_400)


def set_source(source: Callable[[], float]) -> Callable[[], float]:
    """Replace the clock (tests); returns the previous source so it can be restored."""
    global _source
    previous, _source = _source, source
    return previous
