"""One exchange: a request and its bounded answer, connect, headers and body within one
total deadline."""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from httpx._transports.default import map_httpcore_exceptions

from pushgate.outbound._client import DEFAULT_TIMEOUT, CookielessClient, DeliveryClient
from pushgate.outbound._connect import ShardedTransport
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
                chunks = response.aiter_bytes() if decode else response.aiter_raw()
                body = await _read_at_most(chunks, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        if not limit.expired():
            raise
        raise DeadlineExceededError(
            f"no whole answer within {deadline:g} s", request=request
        ) from None
    return Reply(response.status_code, response.headers, body)


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: float,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    content: bytes | None = None,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
    http2: bool = True,
) -> Reply:
    """POST `content` (or `json`, or the form `data`, encoded as httpx does) and read at most
    `max_bytes` of the answer, all within `deadline` seconds; what `exchange` does for one
    request, and what it raises.

    On a `DeliveryClient` (the shared client) the request goes straight to one of its
    httpcore pools: the same connections, address checks and per-phase timeouts, no
    redirects and no cookies, but none of httpx's per-request models (Request, URL, Response,
    its streams and hooks), which were most of a Web Push send's CPU (bench/httpclients.py).
    The answer then comes as sent (no `Accept-Encoding` is offered). `http2=False` sends on
    its HTTP/1.1-only pools (see DeliveryClient). Other clients (tests' mock transports) go
    through httpx."""
    body, content_type = _encoded(content, json, data)
    if content_type is not None:
        headers = {"Content-Type": content_type, **headers}
    if isinstance(client, DeliveryClient) and (host := _direct_host(url)) is not None:
        headers = {"Host": host, **headers, "Content-Length": str(len(body))}
        pools = client.pools if http2 else client.http1_pools
        return await _post_direct(
            pools, url, headers, body, deadline=deadline, timeout=timeout, max_bytes=max_bytes
        )
    request = client.build_request("POST", url, headers=headers, content=body, timeout=timeout)
    return await exchange(client, request, deadline=deadline, max_bytes=max_bytes)


async def _read_at_most(chunks: AsyncIterable[bytes], max_bytes: int) -> bytes:
    """The answer's first `max_bytes`: reading stops there, whatever the peer still sends."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) >= max_bytes:
            break
    return bytes(body[:max_bytes])


def _encoded(
    content: bytes | None, json: Any, data: Mapping[str, str] | None
) -> tuple[bytes, str | None]:
    if json is not None:
        text = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode(), "application/json"
    if data is not None:
        return urlencode(list(data.items())).encode(), "application/x-www-form-urlencoded"
    return content or b"", None


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _direct_host(url: str) -> str | None:
    """The `Host` header for a URL httpcore takes as httpx would (http(s), ASCII, no user
    info, which httpx would turn into a Basic header, no IPv6 literal), else None."""
    if not url.isascii() or "[" in url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    return host if port is None or port == _DEFAULT_PORTS[parts.scheme] else f"{host}:{port}"


async def _post_direct(
    pools: ShardedTransport,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    deadline: float,
    timeout: httpx.Timeout,
    max_bytes: int,
) -> Reply:
    import httpcore

    request = httpcore.Request(
        b"POST",
        url,
        headers=_with_defaults(headers),
        content=body,
        extensions={"timeout": timeout.as_dict()},
    )
    pool = pools.next_pool()
    limit = asyncio.timeout(deadline)
    try:
        # httpcore's errors become the httpx ones the providers map to outcomes, as httpx's
        # own transport maps them (its table, so the two cannot drift apart).
        with map_httpcore_exceptions():
            async with limit:
                response = await pool.handle_async_request(request)
                try:
                    answer = await _read_at_most(response.stream, max_bytes)  # type: ignore[arg-type]
                finally:
                    await response.aclose()
    except TimeoutError:
        if not limit.expired():
            raise
        raise DeadlineExceededError(f"no whole answer within {deadline:g} s") from None
    return Reply(response.status, httpx.Headers(response.headers), answer)


# What httpx sends when not told otherwise, less Accept-Encoding: answers come as sent.
_DEFAULT_HEADERS = {
    "accept": ("Accept", "*/*"),
    "user-agent": ("User-Agent", f"python-httpx/{httpx.__version__}"),
}


def _with_defaults(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    given = [name.lower() for name in headers]
    defaults = [pair for name, pair in _DEFAULT_HEADERS.items() if name not in given]
    return [*defaults, *headers.items()]


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
