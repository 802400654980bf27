"""Provider clients for the deliver function: FCM HTTP v1, Web Push and ntfy, each sending
over one injected `httpx.AsyncClient` and returning an `Outcome`.

The exception tree is documented in `pushgate.providers.exceptions`.
"""

from pushgate.providers._http import (
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_BYTES,
    CookielessClient,
    ShardedTransport,
)
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
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOKEN_URL",
    "MAX_RESPONSE_BYTES",
    "MAX_RETRY_AFTER",
    "URGENCIES",
    "AccessTokenError",
    "CookielessClient",
    "FcmAccessTokens",
    "FcmMessage",
    "FcmSender",
    "InvalidServiceAccountError",
    "NtfySender",
    "Outcome",
    "ProviderError",
    "ServiceAccount",
    "ShardedTransport",
    "Status",
    "Urgency",
    "WebPushSender",
    "build_fcm_message",
    "parse_retry_after",
]
