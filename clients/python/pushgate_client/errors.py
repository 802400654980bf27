"""The exceptions the client raises: one per kind of answer, each carrying the API's error
`code` (docs/api.md) and message.

    PushgateError                   anything the client could not do
    ├── ApiError                    pushgate answered with an error (`status`, `code`, `message`)
    │   ├── BadRequestError         400, 422 (invalid_request, idempotency_key_reused, ...)
    │   ├── AuthenticationError     401 (invalid_token, wrong_issuer, ...)
    │   ├── PermissionDeniedError   403 (forbidden, push_disabled, insufficient_scope, ...)
    │   ├── NotFoundError           404
    │   ├── ConflictError           409 (already_decided, request_in_progress, ...)
    │   ├── GoneError               410 (approval_expired)
    │   ├── PayloadTooLargeError    413
    │   ├── RateLimitedError        429 (rate_limited, quota_exceeded), with `retry_after`
    │   └── ServiceUnavailableError 5xx
    ├── ConnectionFailedError       no answer at all (connection refused, reset, timed out)
    ├── TokenError                  the OAuth token endpoint refused or failed
    └── InvalidReceiptError         a receipt whose signature or timestamp does not verify
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionFailedError",
    "GoneError",
    "InvalidReceiptError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PushgateError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "TokenError",
]


class PushgateError(Exception):
    """Anything the client could not do."""


class ApiError(PushgateError):
    """pushgate answered with an error."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: float | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.retry_after = retry_after


class BadRequestError(ApiError):
    pass


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class GoneError(ApiError):
    pass


class PayloadTooLargeError(ApiError):
    pass


class RateLimitedError(ApiError):
    pass


class ServiceUnavailableError(ApiError):
    pass


class ConnectionFailedError(PushgateError):
    """No answer: the connection failed or timed out (after the retries)."""


class TokenError(PushgateError):
    """The OAuth token endpoint refused the client's credentials or failed."""


class InvalidReceiptError(PushgateError):
    """A receipt whose signature, id or timestamp does not verify."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    422: BadRequestError,
    429: RateLimitedError,
}


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (RFC 9110 §10.2.3, the delay-seconds form pushgate sends)."""
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from(response: httpx.Response) -> ApiError:
    """The exception for an error answer, from its `{"error": {code, message}}` body."""
    code, message = "http_error", response.reason_phrase or "error"
    try:
        detail: Any = json.loads(response.content)["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        pass
    status = response.status_code
    kind = _BY_STATUS.get(status, ServiceUnavailableError if status >= 500 else ApiError)
    return kind(status, code, message, retry_after=retry_after(response))
