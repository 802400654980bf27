"""Rolling-hour rate limits on what one caller may do: a refusal is 429 with the seconds until
a slot frees up."""

from __future__ import annotations

from pushgate.errors import TooManyRequestsError
from pushgate.storage.counters import take_rate_slot


def require_slot(key: str, *, limit: int, what: str, window_seconds: int = 3600) -> None:
    """One of `limit` slots per `window_seconds` under `key`, else 429 naming `what`."""
    wait = take_rate_slot(key, limit=limit, window_seconds=window_seconds)
    if wait is not None:
        hour = "hour" if window_seconds == 3600 else f"{window_seconds} seconds"
        raise TooManyRequestsError(f"at most {limit} {what} per {hour}", retry_after=wait)
