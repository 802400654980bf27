"""Outbound HTTP: connections made only to addresses checked when connecting, named requests
pooled per name, one total deadline per exchange, one client per event loop."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator

import httpcore
import httpx
import pytest

from pushgate import outbound
from pushgate.urls import UnsafeUrlError
from tests.standins.tarpit import TarpitServer
from tests.standins.webhook import WebhookReceiver

PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1::1"


class Resolver:
    """Answers from a table, counting lookups."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


class Network:
    """An inner network backend that records where it was asked to connect; addresses in
    `down` fail to connect."""

    def __init__(self, down: tuple[str, ...] = ()) -> None:
        self.down = down
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connects.append((host, port))
        if host in self.down:
            raise httpcore.ConnectError("unreachable")
        return f"stream to {host}:{port}"

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _connect(backend: outbound.AddressCheckingBackend, host: str, port: int = 443):
    return asyncio.run(backend.connect_tcp(host, port, timeout=1.0))


def _backend(answers, *, allow_private=False, network=None):
    return outbound.AddressCheckingBackend(
        allow_private=allow_private, resolver=Resolver(answers), inner=network or Network()
    )


# ---------------------------------------------------------------- the backend


def test_backend_connects_to_the_checked_address_not_the_name():
    network = Network()
    backend = _backend({"push.example": [PUBLIC]}, network=network)

    stream = _connect(backend, "push.example", 8443)

    assert stream == f"stream to {PUBLIC}:8443"
    assert network.connects == [(PUBLIC, 8443)]


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.1"], [PUBLIC, "127.0.0.1"], ["::ffff:10.0.0.1"], ["169.254.169.254"], ["fd00::1"]],
)
def test_backend_refuses_a_name_with_any_private_address_without_connecting(addresses):
    network = Network()
    backend = _backend({"push.example": addresses}, network=network)

    with pytest.raises(outbound.RefusedAddressError) as refused:
        _connect(backend, "push.example")

    assert isinstance(refused.value, UnsafeUrlError)
    assert (refused.value.status, refused.value.code) == (400, "unsafe_url")
    assert refused.value.message == "the host resolves to a private or reserved address"
    assert network.connects == []


@pytest.mark.parametrize("literal", ["127.0.0.1", "10.1.2.3", "::1", "::ffff:127.0.0.1"])
def test_backend_refuses_private_ip_literals_without_a_lookup(literal):
    resolver, network = Resolver({}), Network()
    backend = outbound.AddressCheckingBackend(allow_private=False, resolver=resolver, inner=network)

    with pytest.raises(outbound.RefusedAddressError):
        _connect(backend, literal)

    assert (resolver.lookups, network.connects) == ([], [])


def test_backend_connects_to_a_public_ip_literal_without_a_lookup():
    resolver, network = Resolver({}), Network()
    backend = outbound.AddressCheckingBackend(allow_private=False, resolver=resolver, inner=network)

    _connect(backend, PUBLIC_V6)

    assert (resolver.lookups, network.connects) == ([], [(PUBLIC_V6, 443)])


def test_backend_allows_private_addresses_where_private_urls_are():
    network = Network()
    backend = _backend({"ntfy.local": ["127.0.0.1"]}, allow_private=True, network=network)

    _connect(backend, "ntfy.local", 8080)

    assert network.connects == [("127.0.0.1", 8080)]


def test_backend_tries_the_next_checked_address_when_one_fails():
    network = Network(down=(PUBLIC_V6,))
    backend = _backend({"push.example": [PUBLIC_V6, PUBLIC]}, network=network)

    stream = _connect(backend, "push.example")

    assert stream == f"stream to {PUBLIC}:443"
    assert network.connects == [(PUBLIC_V6, 443), (PUBLIC, 443)]


def test_backend_raises_the_last_failure_when_every_address_fails():
    network = Network(down=(PUBLIC_V6, PUBLIC))
    backend = _backend({"push.example": [PUBLIC_V6, PUBLIC]}, network=network)

    with pytest.raises(httpcore.ConnectError, match="unreachable"):
        _connect(backend, "push.example")

    assert len(network.connects) == 2


def test_backend_reports_a_name_that_does_not_resolve_as_a_connect_error():
    # Not a refusal: a lookup that fails now may work on the next attempt.
    with pytest.raises(httpcore.ConnectError, match="does not resolve"):
        _connect(_backend({}), "gone.example")


def test_backend_never_opens_unix_sockets():
    with pytest.raises(outbound.RefusedAddressError):
        asyncio.run(_backend({}).connect_unix_socket("/var/run/docker.sock"))


# ---------------------------------------------------------------- through httpx


def _names_client(answers, *, allow_private: bool) -> httpx.AsyncClient:
    backend = outbound.AddressCheckingBackend(
        allow_private=allow_private, resolver=Resolver(answers)
    )
    return outbound.CookielessClient(transport=outbound.CheckedTransport(backend))


def test_checked_transport_connects_through_its_backend_and_keeps_the_name():
    # If httpx moved its pool away from `_pool`, this request would connect by name (which
    # does not resolve) instead of through the backend.
    with WebhookReceiver() as receiver:
        url = f"http://hooks.invalid:{receiver.port}/r"

        async def post() -> int:
            async with _names_client({"hooks.invalid": ["127.0.0.1"]}, allow_private=True) as c:
                return (await c.post(url, content=b"{}")).status_code

        assert asyncio.run(post()) == 200
        (call,) = receiver.received()
        assert call.headers["host"] == f"hooks.invalid:{receiver.port}"


def test_checked_transport_refusal_reaches_the_caller_unwrapped():
    async def post() -> None:
        async with _names_client({"hooks.example": ["10.0.0.7"]}, allow_private=False) as c:
            await c.post("https://hooks.example/r", content=b"{}")

    with pytest.raises(outbound.RefusedAddressError):
        asyncio.run(post())


def test_checked_transport_pools_connections_per_name_not_per_address():
    # Two names at one address never share a connection (a TLS session is for one name).
    with WebhookReceiver() as receiver:
        names = {"a.invalid": ["127.0.0.1"], "b.invalid": ["127.0.0.1"]}

        async def post_each_twice() -> None:
            async with _names_client(names, allow_private=True) as c:
                for name in ("a.invalid", "b.invalid", "a.invalid", "b.invalid"):
                    await c.post(f"http://{name}:{receiver.port}/r", content=b"{}")

        asyncio.run(post_each_twice())

        assert len(receiver.received()) == 4
        assert receiver.connections == {"http/1.1": 2}


def test_sharded_transport_pools_connect_through_the_backend():
    async def post() -> None:
        backend = outbound.AddressCheckingBackend(
            allow_private=False, resolver=Resolver({"push.example": ["192.168.1.9"]})
        )
        transport = outbound.ShardedTransport(8, backend=backend)
        async with outbound.CookielessClient(transport=transport) as c:
            for _ in range(2):  # both pools
                with pytest.raises(outbound.RefusedAddressError):
                    await c.post("https://push.example/p", content=b"")

    asyncio.run(post())


# ---------------------------------------------------------------- the deadline


def test_exchange_gives_up_on_a_trickling_peer_at_its_deadline():
    with TarpitServer(interval=0.15, duration=5) as tarpit:

        async def go() -> None:
            async with httpx.AsyncClient(timeout=5.0) as c:
                await outbound.exchange(c, c.build_request("GET", tarpit.url), deadline=0.5)

        started = time.monotonic()
        with pytest.raises(outbound.DeadlineExceededError) as expired:
            asyncio.run(go())
        elapsed = time.monotonic() - started

    assert isinstance(expired.value, httpx.TimeoutException)
    assert str(expired.value) == "no whole answer within 0.5 s"
    # Not the 5 s the peer trickles for, nor the client's 5 s read timeout (which the
    # trickle keeps resetting); the slack is for a loaded CI machine.
    assert 0.5 <= elapsed < 2.5


def test_exchange_reads_at_most_max_bytes_of_the_answer():
    async def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 100_000)

    async def go() -> outbound.Reply:
        async with httpx.AsyncClient(transport=httpx.MockTransport(big)) as c:
            request = c.build_request("GET", "https://x.test/")
            return await outbound.exchange(c, request, deadline=1.0, max_bytes=1000)

    reply = asyncio.run(go())

    assert (reply.status_code, reply.body) == (200, b"x" * 1000)


def test_exchange_without_decoding_reads_a_compressed_answer_as_sent():
    compressed = gzip.compress(b"\0" * 10_000_000)  # 10 MB inflated, ~10 KB as sent

    async def sent() -> AsyncIterator[bytes]:
        yield compressed

    async def bomb(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sent(), headers={"content-encoding": "gzip"})

    async def go() -> outbound.Reply:
        async with httpx.AsyncClient(transport=httpx.MockTransport(bomb)) as c:
            request = c.build_request("POST", "https://hooks.test/", content=b"{}")
            return await outbound.exchange(c, request, deadline=1.0, decode=False)

    reply = asyncio.run(go())

    assert reply.body == compressed


# ---------------------------------------------------------------- the shared client


def test_client_is_one_per_event_loop():
    async def twice() -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        return outbound.client(), outbound.client()

    try:
        first, again = asyncio.run(twice())
        later, _ = asyncio.run(twice())
    finally:
        outbound.client.cache_clear()

    assert first is again
    assert later is not first
