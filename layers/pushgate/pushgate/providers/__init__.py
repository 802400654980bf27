"""Provider clients for the deliver function: FCM HTTP v1, Web Push and ntfy, each sending
over one injected `httpx.AsyncClient` (`pushgate.outbound.client()` in the deliver function)
and returning an `Outcome`.

The exception tree is documented in `pushgate.providers.exceptions`.
"""

from pushgate.providers._rfc8030 import URGENCIES, Urgency
from pushgate.providers.exceptions import (
    AccessTokenError,
    InvalidServiceAccountError,
    ProviderError,
)
from pushgate.providers.fcm import (
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    FcmAccessTokens,
    FcmInteractive,
    FcmMessage,
    FcmSender,
    ServiceAccount,
    build_fcm_message,
)
from pushgate.providers.ntfy import NtfySender
from pushgate.providers.result import MAX_RETRY_AFTER, Outcome, Status, parse_retry_after
from pushgate.providers.webpush import WebPushSender

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URL",
    "MAX_RETRY_AFTER",
    "URGENCIES",
    "AccessTokenError",
    "FcmAccessTokens",
    "FcmInteractive",
    "FcmMessage",
    "FcmSender",
    "InvalidServiceAccountError",
    "NtfySender",
    "Outcome",
    "ProviderError",
    "ServiceAccount",
    "Status",
    "Urgency",
    "WebPushSender",
    "build_fcm_message",
    "parse_retry_after",
]
