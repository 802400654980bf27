"""Every outbound HTTP connection pushgate makes: made only to addresses checked when it is
made (no DNS rebinding), no cookies, no redirects; and the per-event-loop client that
delivery and receipts share.

The exception tree is documented in `pushgate.outbound.exceptions`.
"""

from pushgate.outbound._client import DEFAULT_TIMEOUT, CookielessClient, client, ssl_context
from pushgate.outbound._connect import (
    CONNECTIONS_PER_POOL,
    AddressCheckingBackend,
    CheckedTransport,
    ShardedTransport,
)
from pushgate.outbound.exceptions import RefusedAddressError

__all__ = [
    "CONNECTIONS_PER_POOL",
    "DEFAULT_TIMEOUT",
    "AddressCheckingBackend",
    "CheckedTransport",
    "CookielessClient",
    "RefusedAddressError",
    "ShardedTransport",
    "client",
    "ssl_context",
]
