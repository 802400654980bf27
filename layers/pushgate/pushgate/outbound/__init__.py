"""Every outbound HTTP exchange pushgate makes: connections made only to addresses checked
when they are made (no DNS rebinding), one total deadline per exchange (a peer trickling
bytes cannot hold a batch), a bounded answer, no cookies, no redirects; and the per-event-loop
client that delivery and receipts share.

The exception tree is documented in `pushgate.outbound.exceptions`.
"""

from pushgate.outbound._client import (
    DEFAULT_TIMEOUT,
    CookielessClient,
    DeliveryClient,
    client,
    ssl_context,
)
from pushgate.outbound._connect import (
    CONNECTIONS_PER_POOL,
    AddressCheckingBackend,
    CheckedTransport,
    ShardedTransport,
)
from pushgate.outbound._exchange import (
    DEFAULT_DEADLINE_SECONDS,
    MAX_RESPONSE_BYTES,
    Reply,
    exchange,
    fetch_blocking,
    post,
    request_blocking,
)
from pushgate.outbound.exceptions import DeadlineExceededError, RefusedAddressError

__all__ = [
    "CONNECTIONS_PER_POOL",
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "AddressCheckingBackend",
    "CheckedTransport",
    "CookielessClient",
    "DeadlineExceededError",
    "DeliveryClient",
    "RefusedAddressError",
    "Reply",
    "ShardedTransport",
    "client",
    "exchange",
    "fetch_blocking",
    "post",
    "request_blocking",
    "ssl_context",
]
