"""One exchange: a request and its bounded answer, connect, headers and body within one
total deadline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from pushgate.outbound.exceptions import DeadlineExceededError

# Connect, headers and body of one exchange together (`PUSHGATE_OUTBOUND_DEADLINE_SECONDS`).
DEFAULT_DEADLINE_SECONDS = 10.0
# Provider and webhook answers are small documents; anything larger is not read.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes


async def exchange(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    deadline: float,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> Reply:
    """Send `request` and read at most `max_bytes` of the answer, connect, headers and body
    all within `deadline` seconds (httpx's timeouts are per read: a peer trickling a byte at
    a time never trips them). No redirects are followed.

    Raises `DeadlineExceededError` when the deadline passes, `RefusedAddressError` when the
    host resolves to an address that is not public, and httpx errors."""
    limit = asyncio.timeout(deadline)
    try:
        async with limit:
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= max_bytes:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        if not limit.expired():
            raise
        raise DeadlineExceededError(
            f"no whole answer within {deadline:g} s", request=request
        ) from None
    return Reply(response.status_code, response.headers, bytes(body[:max_bytes]))
