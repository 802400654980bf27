"""What a provider answered, as one typed value the deliver function can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Where a provider's `Retry-After` is read (re-exported here for the providers).
from pushgate.retry_policy import MAX_RETRY_AFTER, parse_retry_after

__all__ = ["MAX_RETRY_AFTER", "Outcome", "Status", "parse_retry_after"]

Status = Literal["delivered", "invalid_token", "failed", "retry"]


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
