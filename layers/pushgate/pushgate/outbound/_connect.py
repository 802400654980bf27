"""Connections pinned at connect time: a network backend that checks the addresses it
connects to, and the httpx transports that use it.

httpcore is imported where it is used, not at the top: it costs ~50 ms of an HTTP function's
cold start (measured with `functions/register`), and those only need it once they fetch."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import math
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

from pushgate.outbound.exceptions import RefusedAddressError
from pushgate.urls import IPAddress, Resolver, is_public_address, system_resolver

if TYPE_CHECKING:
    import httpcore

# Connections per pool of a ShardedTransport.
CONNECTIONS_PER_POOL = 4


class AddressCheckingBackend:
    """An httpcore network backend that connects only to addresses it has just checked.

    `connect_tcp` resolves the host itself (off the event loop; an IP literal as it is),
    refuses with `RefusedAddressError` unless every address is public (unless private URLs
    are allowed), then connects to a checked address, trying the next when one fails. URLs
    keep their host names, so `Host`, SNI, certificate checks and connection pooling stay per
    name, and no later lookup can move the connection elsewhere (DNS rebinding).

    It has httpcore's `AsyncNetworkBackend` shape without subclassing it, so that importing
    this module does not load httpcore."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        from pushgate.outbound._stream import AsyncioBackend

        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = inner or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import httpcore

        addresses = await self._checked_addresses(host, port)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddressError("outbound requests never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        import httpcore

        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                answers = await asyncio.to_thread(self._resolver, host, port)
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in answers]
            except (OSError, UnicodeError, ValueError) as error:
                # Not a refusal: a lookup that fails now may work on the next attempt.
                raise httpcore.ConnectError(f"{host} does not resolve") from error
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        if not self._allow_private and not all(is_public_address(a) for a in addresses):
            raise RefusedAddressError("the host resolves to a private or reserved address")
        return addresses


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connections made by `backend`.

    httpx 0.28 takes no network backend, so the httpcore pool it builds in `_pool` is
    replaced by one built with the same arguments and `network_backend=backend`; it refuses
    to start if httpx keeps its pool elsewhere (tests/unit/test_outbound.py says so too),
    because a pool it did not build would connect by name, unchecked."""

    def __init__(
        self,
        backend: AddressCheckingBackend,
        *,
        verify: ssl.SSLContext | bool = True,
        http2: bool = False,
        limits: httpx.Limits | None = None,
    ) -> None:
        import httpcore

        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        context = httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context, http2=http2, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=backend,
        )


class ShardedTransport(httpx.AsyncBaseTransport):
    """`connections` connections as small pools taking requests in turn, each connecting
    through `backend`.

    httpcore's pool does work proportional to its connections, a socket syscall per idle one
    included, each time a request enters or leaves it: one pool of 256 HTTP/1.1 connections
    spent ~6 ms of CPU per request on itself where pools of four spend ~1 ms (1,000 requests
    to a 50 ms push service). An HTTP/2 origin gets one multiplexed connection per pool that
    uses it. The pools share one SSL context instead of each loading the CA bundle."""

    def __init__(
        self,
        connections: int,
        *,
        backend: AddressCheckingBackend,
        verify: ssl.SSLContext | bool = True,
        http2: bool = False,
    ) -> None:
        per_pool = min(connections, CONNECTIONS_PER_POOL)
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        context = httpx.create_ssl_context(verify=verify)  # one for all the pools
        self._pools = [
            CheckedTransport(backend, verify=context, http2=http2, limits=limits)
            for _ in range(math.ceil(connections / per_pool))
        ]
        self._next = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    def next_pool(self) -> httpcore.AsyncConnectionPool:
        """The httpcore pool whose turn it is (`outbound.post` sends on it directly)."""
        return next(self._next)._pool

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()
