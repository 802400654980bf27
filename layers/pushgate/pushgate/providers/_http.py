"""The one way providers call out: a POST over the shared client (its connections made only
to checked addresses) with explicit timeouts, no redirects, a bounded response body, and
what got no answer turned into an outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pushgate.providers.result import Outcome
from pushgate.urls import UnsafeUrlError

# Provider answers are small JSON documents; anything larger is not read.
MAX_RESPONSE_BYTES = 64 * 1024
# What a send can raise instead of answering; `transport_outcome` says what each one means.
TRANSPORT_ERRORS = (httpx.HTTPError, httpx.InvalidURL, UnsafeUrlError)


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: httpx.Timeout,
    content: bytes | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
) -> Reply:
    """POST and read at most MAX_RESPONSE_BYTES of the answer. Raises one of TRANSPORT_ERRORS."""
    request = client.build_request(
        "POST", url, headers=headers, content=content, json=json, data=data, timeout=timeout
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES:
                break
        return Reply(response.status_code, response.headers, b"".join(chunks)[:MAX_RESPONSE_BYTES])
    finally:
        await response.aclose()


def transport_outcome(error: Exception) -> Outcome:
    """A request that got no answer: worth retrying, unless the URL itself cannot work (or
    must not: its host resolved to an address that is not public)."""
    if isinstance(error, UnsafeUrlError):
        return Outcome.failed("unsafe_url")
    if isinstance(error, httpx.TimeoutException):
        return Outcome.retry("timeout")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return Outcome.failed("invalid_request")
    return Outcome.retry("connection_error")
