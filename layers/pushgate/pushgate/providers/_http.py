"""The one way providers call out: a POST through `pushgate.outbound` (connections pinned to
checked addresses, one total deadline, no redirects, a bounded answer), and what got no
answer turned into an outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from pushgate import outbound
from pushgate.outbound import Reply
from pushgate.providers.result import Outcome
from pushgate.urls import UnsafeUrlError

__all__ = ["TRANSPORT_ERRORS", "Reply", "post", "transport_outcome"]

# What a send can raise instead of answering; `transport_outcome` says what each one means.
TRANSPORT_ERRORS = (httpx.HTTPError, httpx.InvalidURL, UnsafeUrlError)


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
    deadline: float,
    content: bytes | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    http2: bool = True,
) -> Reply:
    """POST and read at most `outbound.MAX_RESPONSE_BYTES` of the answer, all within
    `deadline` seconds. Raises one of TRANSPORT_ERRORS."""
    return await outbound.post(
        client,
        url,
        headers=headers,
        content=content,
        json=json,
        data=data,
        timeout=timeout,
        deadline=deadline,
        http2=http2,
    )


def transport_outcome(error: Exception) -> Outcome:
    """A request that got no answer: worth retrying, unless the URL itself cannot work (or
    must not: its host resolved to an address that is not public)."""
    if isinstance(error, UnsafeUrlError):
        return Outcome.failed("unsafe_url")
    if isinstance(error, httpx.TimeoutException):  # the total deadline included
        return Outcome.retry("timeout")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return Outcome.failed("invalid_request")
    return Outcome.retry("connection_error")
