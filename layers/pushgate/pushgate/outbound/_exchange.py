"""One exchange: a request and its bounded answer, connect, headers and body within one
total deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pushgate.outbound._client import CookielessClient
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
    before_body: Callable[[httpx.Response], None] | None = None,
    decode: bool = True,
) -> Reply:
    """Send `request` and read at most `max_bytes` of the answer, connect, headers and body
    all within `deadline` seconds (httpx's timeouts are per read: a peer trickling a byte at
    a time never trips them). No redirects are followed. `before_body` sees the answer's
    status and headers before any of its body is read, and may raise to refuse it.
    `decode=False` keeps the body as sent, for callers that only drain it: httpx undoes a
    `Content-Encoding` a whole chunk at a time, so a 64 KB gzip chunk can inflate to tens of
    megabytes before the cap applies.

    Raises `DeadlineExceededError` when the deadline passes, `RefusedAddressError` when the
    host resolves to an address that is not public, httpx errors, and what `before_body`
    raises."""
    limit = asyncio.timeout(deadline)
    try:
        async with limit:
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                if before_body is not None:
                    before_body(response)
                body = bytearray()
                chunks = response.aiter_bytes() if decode else response.aiter_raw()
                async for chunk in chunks:
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


def fetch_blocking(
    url: str,
    *,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    timeout: httpx.Timeout,
    transport: httpx.AsyncBaseTransport | None = None,
    before_body: Callable[[httpx.Response], None] | None = None,
) -> Reply:
    """GET `url` from synchronous code (the HTTP functions). See `request_blocking`."""
    return request_blocking(
        "GET",
        url,
        headers=headers,
        deadline=deadline,
        max_bytes=max_bytes,
        timeout=timeout,
        transport=transport,
        before_body=before_body,
    )


def request_blocking(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    timeout: httpx.Timeout,
    content: bytes | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    before_body: Callable[[httpx.Response], None] | None = None,
) -> Reply:
    """One request from synchronous code (the HTTP functions): a client of its own on an
    event loop of its own, the whole exchange within `deadline`. Raises what `exchange`
    raises."""

    async def run() -> Reply:
        async with CookielessClient(
            transport=transport, timeout=timeout, follow_redirects=False
        ) as own:
            request = own.build_request(method, url, headers=headers, content=content)
            return await exchange(
                own, request, deadline=deadline, max_bytes=max_bytes, before_body=before_body
            )

    return asyncio.run(run())
