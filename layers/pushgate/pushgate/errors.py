"""Domain errors: each knows its HTTP status and its snake_case code.

The resolver factory (`pushgate.api`) is the one place that turns them into responses, in the
one error shape `{"error": {"code": ..., "message": ...}}`. Messages are written for tenants and
must never contain a secret (token, key, JWT, endpoint or webhook secret).

    PushgateError
    ├── BadRequestError            400 bad_request (and specific codes such as unsafe_url)
    ├── UnauthorizedError          401 unauthorized / invalid_token
    │   └── SignatureError         401 invalid_signature / missing_signature / expired / ...
    ├── ForbiddenError             403 forbidden / insufficient_scope
    │   └── PushDisabledError      403 push_disabled
    ├── NotFoundError              404 not_found
    ├── ConflictError              409 conflict / replayed_nonce
    ├── PayloadTooLargeError       413 payload_too_large
    ├── IdempotencyMismatchError   422 idempotency_key_reused
    └── TooManyRequestsError       429 rate_limited (+ Retry-After)
        └── QuotaExceededError     429 quota_exceeded
"""

from __future__ import annotations

from typing import ClassVar


class PushgateError(Exception):
    """Base of every error a caller may see. Not raised directly."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    @property
    def headers(self) -> dict[str, str]:
        return {}


class BadRequestError(PushgateError):
    status = 400
    default_code = "bad_request"


class UnauthorizedError(PushgateError):
    status = 401
    default_code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="pushgate"'}


class SignatureError(UnauthorizedError):
    """A gateway client's signed request did not authenticate (signature, times, key)."""

    default_code = "invalid_signature"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Signature realm="pushgate", headers="x-push-signature"'}


class ForbiddenError(PushgateError):
    status = 403
    default_code = "forbidden"


class PushDisabledError(ForbiddenError):
    default_code = "push_disabled"


class NotFoundError(PushgateError):
    status = 404
    default_code = "not_found"


class ConflictError(PushgateError):
    status = 409
    default_code = "conflict"


class GoneError(PushgateError):
    status = 410
    default_code = "gone"


class PayloadTooLargeError(PushgateError):
    status = 413
    default_code = "payload_too_large"


class IdempotencyMismatchError(PushgateError):
    status = 422
    default_code = "idempotency_key_reused"


class TooManyRequestsError(PushgateError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class QuotaExceededError(TooManyRequestsError):
    default_code = "quota_exceeded"
