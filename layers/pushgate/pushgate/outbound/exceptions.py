"""The outbound package's exceptions, documented in one place.

    UnsafeUrlError (pushgate.urls, 400 unsafe_url)
    └── RefusedAddressError       a connection refused when it was made: the host resolved
                                  to an address that is not public
    httpx.TimeoutException
    └── DeadlineExceededError     the exchange's total deadline passed; callers treat it
                                  like any other timeout

Everything else an exchange raises is an httpx error (`httpx.HTTPError`).
"""

from __future__ import annotations

import httpx

from pushgate.urls import UnsafeUrlError


class RefusedAddressError(UnsafeUrlError):
    """A connection refused when it was made: the host's addresses are not all public."""


class DeadlineExceededError(httpx.TimeoutException):
    """The exchange's total deadline passed: a timeout like any other to its callers."""
