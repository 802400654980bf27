"""The one way providers call out: a POST over the shared client with explicit timeouts, no
redirects, a bounded response body, and network failures turned into outcomes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from pushgate.providers.result import Outcome

# Push services answer fast or not at all; a pool wait means the fan-out outran the client's
# connection limits, which is worth a retry rather than an indefinite wait.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=10.0)
# Provider answers are small JSON documents; anything larger is not read.
MAX_RESPONSE_BYTES = 64 * 1024
# Connections per pool of a ShardedTransport.
CONNECTIONS_PER_POOL = 4


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes


class _NoCookies(httpx.Cookies):
    """A cookie store that never takes a cookie in (and so never sends one)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class CookielessClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` that keeps no cookies. pushgate has no session with any push
    service or webhook, and a `Set-Cookie` from one must not ride along to the next. It also
    saves httpx's cookie-jar bookkeeping on every response: about a quarter of the CPU of a
    Web Push send (`make bench`, provider fan-out)."""

    def __init__(self, **options: Any) -> None:
        if "cookies" in options:
            raise TypeError("CookielessClient takes no cookies")
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise TypeError("CookielessClient takes no cookies")


class ShardedTransport(httpx.AsyncBaseTransport):
    """`connections` connections as small pools taking requests in turn.

    httpcore's pool does work proportional to its connections, a socket syscall per idle one
    included, each time a request enters or leaves it: one pool of 256 HTTP/1.1 connections
    spent ~6 ms of CPU per request on itself where pools of four spend ~1 ms (1,000 requests
    to a 50 ms push service). An HTTP/2 origin gets one multiplexed connection per pool that
    uses it. Pass `verify` as one SSLContext, so the pools share it instead of each loading
    the CA bundle."""

    def __init__(self, connections: int, **options: Any) -> None:
        per_pool = min(connections, CONNECTIONS_PER_POOL)
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        self._pools = [
            httpx.AsyncHTTPTransport(limits=limits, **options)
            for _ in range(math.ceil(connections / per_pool))
        ]
        self._next = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


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
    """POST and read at most MAX_RESPONSE_BYTES of the answer. Raises httpx errors."""
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


def transport_outcome(error: httpx.HTTPError) -> Outcome:
    """A request that got no answer: worth retrying, unless the URL itself cannot work."""
    if isinstance(error, httpx.TimeoutException):
        return Outcome.retry("timeout")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return Outcome.failed("invalid_request")
    return Outcome.retry("connection_error")
