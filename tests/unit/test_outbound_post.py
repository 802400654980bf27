"""`outbound.post` on the shared DeliveryClient (straight to its httpcore pools) and the
asyncio network backend under it: the same checks, deadline, bound and errors as through
httpx, against real local servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time

import httpx
import pytest

from pushgate import outbound
from pushgate.outbound._stream import AsyncioBackend
from tests.standins.tarpit import TarpitServer
from tests.standins.webhook import WebhookReceiver


class Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


def _client(answers=None, *, allow_private=True, verify=True) -> outbound.DeliveryClient:
    backend = outbound.AddressCheckingBackend(
        allow_private=allow_private, resolver=Resolver(answers or {})
    )
    return outbound.DeliveryClient(8, backend=backend, verify=verify)


def _post(client_factory, url, **options) -> outbound.Reply:
    async def go() -> outbound.Reply:
        async with client_factory() as client:
            return await outbound.post(client, url, deadline=5.0, **options)

    return asyncio.run(go())


@pytest.mark.parametrize("http2", [True, False])
def test_post_sends_the_request_as_httpx_would_and_reads_the_answer(http2):
    with WebhookReceiver() as receiver:
        url = f"http://hooks.invalid:{receiver.port}/r?x=1"
        reply = _post(
            lambda: _client({"hooks.invalid": ["127.0.0.1"]}),
            url,
            headers={"Accept": "application/json", "TTL": "60"},
            content=b"payload",
            http2=http2,
        )
        (call,) = receiver.received()

    assert reply.status_code == 200
    assert isinstance(reply.headers, httpx.Headers)
    assert call.path == "/r"
    assert call.body == b"payload"
    assert call.headers["host"] == f"hooks.invalid:{receiver.port}"  # the name, not the address
    assert call.headers["content-length"] == "7"
    assert call.headers["accept"] == "application/json"  # given, so not httpx's */*
    assert call.headers["ttl"] == "60"
    assert call.headers["user-agent"] == f"python-httpx/{httpx.__version__}"
    assert "accept-encoding" not in call.headers  # the answer comes as sent
    assert "cookie" not in call.headers


def test_post_encodes_json_and_forms_as_httpx_does():
    with WebhookReceiver() as receiver:
        url = f"{receiver.url}/r"
        document = {"message": "café", "n": 1}
        _post(_client, url, headers={}, json=document)
        _post(_client, url, headers={}, data={"grant_type": "a b", "assertion": "x&y"})
        as_json, as_form = receiver.received()

    expected = httpx.Request("POST", url, json=document)
    assert as_json.body == expected.read()
    assert json.loads(as_json.body) == document
    assert as_json.headers["content-type"] == "application/json"
    assert as_form.body == b"grant_type=a+b&assertion=x%26y"
    assert as_form.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("http2", [True, False])
def test_post_connects_only_through_the_checking_backend(http2):
    with pytest.raises(outbound.RefusedAddressError):
        _post(
            lambda: _client({"push.example": ["10.0.0.7"]}, allow_private=False),
            "https://push.example/p",
            headers={},
            content=b"",
            http2=http2,
        )


def test_post_reports_a_refused_connection_as_httpx_connect_error():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once it is closed
    with pytest.raises(httpx.ConnectError):
        _post(_client, f"http://127.0.0.1:{port}/p", headers={}, content=b"")


def test_post_reports_an_untrusted_certificate_as_httpx_connect_error():
    with WebhookReceiver(tls=True) as receiver, pytest.raises(httpx.ConnectError):
        _post(_client, f"{receiver.url}/p", headers={}, content=b"")


def test_post_verifies_tls_with_the_given_trust():
    with WebhookReceiver(tls=True) as receiver:
        context = receiver.client_ssl_context()
        reply = _post(lambda: _client(verify=context), f"{receiver.url}/p", headers={}, content=b"")

    assert reply.status_code == 200


def test_post_gives_up_on_a_trickling_peer_at_its_deadline():
    with TarpitServer(interval=0.15, duration=5) as tarpit:

        async def go() -> None:
            async with _client() as client:
                await outbound.post(
                    client, tarpit.url, headers={}, content=b"", deadline=0.5, http2=False
                )

        started = time.monotonic()
        with pytest.raises(outbound.DeadlineExceededError) as expired:
            asyncio.run(go())
        elapsed = time.monotonic() - started

    assert isinstance(expired.value, httpx.TimeoutException)
    assert str(expired.value) == "no whole answer within 0.5 s"
    assert 0.5 <= elapsed < 2.5  # not the 5 s the peer trickles for; slack for a loaded CI


def test_post_goes_through_httpx_for_other_clients():
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=request.headers["x-probe"].encode())

    async def go() -> outbound.Reply:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            return await outbound.post(
                client, "https://x.test/", headers={"X-Probe": "mock"}, content=b"", deadline=1.0
            )

    reply = asyncio.run(go())

    assert (reply.status_code, reply.body) == (201, b"mock")


def test_post_reads_at_most_max_bytes_of_the_answer():
    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000)
        with contextlib.suppress(ConnectionError):  # the client stops reading at its cap
            await writer.drain()
        writer.close()

    async def go() -> outbound.Reply:
        server = await asyncio.start_server(big, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, _client() as client:
            return await outbound.post(
                client, f"http://127.0.0.1:{port}/", headers={}, deadline=5.0, max_bytes=1000
            )

    reply = asyncio.run(go())

    assert (reply.status_code, reply.body) == (200, b"x" * 1000)


# ---------------------------------------------------------------- the asyncio backend


def test_backend_sends_a_request_head_and_body_written_back_to_back_as_one_write():
    async def go() -> list[bytes]:
        chunks: list[bytes] = []
        arrived = asyncio.Event()

        async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                chunks.append(data)
                arrived.set()
            writer.close()

        server = await asyncio.start_server(record, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5.0)
            await stream.write(b"head|")
            await stream.write(b"body")
            await asyncio.wait_for(arrived.wait(), 5.0)
            await stream.aclose()
        return chunks

    assert asyncio.run(go()) == [b"head|body"]


def test_backend_stream_says_an_idle_connection_the_peer_closed_is_readable():
    async def go() -> tuple[bool, bool, bytes]:
        accepted: list[asyncio.StreamWriter] = []

        async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)

        server = await asyncio.start_server(keep, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5.0)
            while not accepted:
                await asyncio.sleep(0.01)
            before = stream.get_extra_info("is_readable")
            accepted[0].close()
            for _ in range(500):
                if stream.get_extra_info("is_readable"):
                    break
                await asyncio.sleep(0.01)
            after = stream.get_extra_info("is_readable")
            end = await stream.read(100, timeout=5.0)
            await stream.aclose()
        return before, after, end

    assert asyncio.run(go()) == (False, True, b"")


def test_backend_read_times_out_as_httpcore_read_timeout():
    import httpcore

    async def go() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5.0)
            try:
                await stream.read(100, timeout=0.1)
            finally:
                await stream.aclose()

    with pytest.raises(httpcore.ReadTimeout):
        asyncio.run(go())
