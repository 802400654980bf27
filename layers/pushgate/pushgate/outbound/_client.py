"""The client delivery and receipts share: one per event loop, cookieless, connecting
through the address-checking backend in small pools."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import certifi
import httpx

from pushgate.outbound._connect import AddressCheckingBackend, ShardedTransport
from pushgate.settings import get_settings

# Per-phase limits, inside the total deadline: a push service answers fast or not at all, and
# a pool wait means the fan-out outran the connection limits, which is worth a retry.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=10.0)

T = TypeVar("T")


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


class DeliveryClient(CookielessClient):
    """The shared client: a CookielessClient over a ShardedTransport that offers HTTP/2,
    whose pools `outbound.post` also uses directly (the same connections, without httpx's
    per-request models), plus as many HTTP/1.1-only pools for `outbound.post(http2=False)`.

    Web Push goes over HTTP/1.1: httpcore's HTTP/2 (h2, hpack) costs more CPU per request
    than its HTTP/1.1 (h11) even on one multiplexed connection per pool, ~1.7x on
    bench/httpclients.py; FCM's API is HTTP/2. Both sets connect through `backend`."""

    def __init__(
        self,
        connections: int,
        *,
        backend: AddressCheckingBackend,
        verify: ssl.SSLContext | bool = True,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        context = httpx.create_ssl_context(verify=verify)  # one for all the pools
        self.pools = ShardedTransport(connections, backend=backend, http2=True, verify=context)
        self.http1_pools = ShardedTransport(connections, backend=backend, verify=context)
        super().__init__(transport=self.pools, timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await super().aclose()  # closes self.pools
        await self.http1_pools.aclose()


def ssl_context(ca_bundle: str = "") -> ssl.SSLContext:
    """The public roots (httpx's default), plus the PEM file at `ca_bundle` when one is set."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class _PerEventLoop(Generic[T]):
    """`build()`'s value for the running event loop, built on first use; `cache_clear()`
    forgets it (tests and benchmarks that start a new container on the same loop)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._current: tuple[asyncio.AbstractEventLoop, T] | None = None

    def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        if self._current is None or self._current[0] is not loop:
            self._current = (loop, self._build())  # a previous loop is gone for good
        return self._current[1]

    def cache_clear(self) -> None:
        self._current = None


def _shared_client() -> DeliveryClient:
    settings = get_settings()
    return DeliveryClient(
        settings.delivery_concurrency,
        backend=AddressCheckingBackend(allow_private=settings.allow_private_urls),
        verify=ssl_context(settings.ca_bundle),
    )


client = _PerEventLoop(_shared_client)
"""The running event loop's client for provider calls and receipts.

An `httpx.AsyncClient` belongs to the event loop it first ran on: Lambda reuses one loop per
container (and so one client, with its warm connections); anything that runs a fresh loop
per call gets a fresh client. As many connections as deliveries in flight
(`PUSHGATE_DELIVERY_CONCURRENCY`), in small pools: see ShardedTransport."""
