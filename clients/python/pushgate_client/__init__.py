"""pushgate's client for tenant backends: send, wait for approvals, page through devices,
configure the app, verify receipts. `Pushgate` blocks, `AsyncPushgate` awaits; both are the
same code (`_core`), with one Idempotency-Key per call shared by its retries.

    from pushgate_client import Pushgate
    push = Pushgate("https://push.example.com", token="...")
    push.send("alice", "Hello", "You have a reply")
"""

from pushgate_client._core import Approval, ApprovalAction, MessageOptions, Retry
from pushgate_client.auth import CallableToken, ClientCredentials, StaticToken
from pushgate_client.client import AsyncPushgate, Pushgate
from pushgate_client.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionFailedError,
    GoneError,
    InvalidReceiptError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PushgateError,
    RateLimitedError,
    ServiceUnavailableError,
    TokenError,
)
from pushgate_client.receipts import verify_receipt

__all__ = [
    "ApiError",
    "Approval",
    "ApprovalAction",
    "AsyncPushgate",
    "AuthenticationError",
    "BadRequestError",
    "CallableToken",
    "ClientCredentials",
    "ConflictError",
    "ConnectionFailedError",
    "GoneError",
    "InvalidReceiptError",
    "MessageOptions",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Pushgate",
    "PushgateError",
    "RateLimitedError",
    "Retry",
    "ServiceUnavailableError",
    "StaticToken",
    "TokenError",
    "verify_receipt",
]
