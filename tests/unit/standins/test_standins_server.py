"""What every stand-in shares: lifecycle, scripts, recording and load."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.standins import NtfyStandin, Step, WebPushStandin, always, fail_first, sequence
from tests.standins._recording import Recording
from tests.standins.reference import encrypt_for, vapid_authorization


def test_standin_stop_closes_its_port_and_joins_its_thread() -> None:
    before = set(threading.enumerate())  # other stand-ins (a session stack's) may be running
    standin = NtfyStandin().start()
    port = standin.port
    (thread,) = [t for t in set(threading.enumerate()) - before if t.name == "NtfyStandin"]

    standin.stop()

    assert not thread.is_alive()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_standin_stop_is_idempotent() -> None:
    standin = NtfyStandin().start()

    standin.stop()
    standin.stop()

    assert standin.port > 0


def test_standin_refuses_to_start_twice() -> None:
    with NtfyStandin() as standin, pytest.raises(RuntimeError, match="already running"):
        standin.start()


def test_standin_url_and_origin_name_loopback_and_the_bound_port() -> None:
    with NtfyStandin() as standin:
        assert standin.url == standin.origin == f"http://127.0.0.1:{standin.port}"


def test_standin_keeps_connections_alive_across_requests(http: httpx.Client) -> None:
    with NtfyStandin() as ntfy:
        for _ in range(3):
            http.post(f"{ntfy.url}/", json={"topic": "alerts"})

        assert ntfy.connections == {"http/1.1": 1}


def test_standin_wait_for_deliveries_times_out() -> None:
    with NtfyStandin() as ntfy, pytest.raises(TimeoutError):
        ntfy.wait_for_deliveries(1, timeout=0.05)


def test_standin_clear_forgets_what_was_received(http: httpx.Client) -> None:
    with NtfyStandin() as ntfy:
        http.post(f"{ntfy.url}/", json={"topic": "alerts"})
        http.post(f"{ntfy.url}/", json={"topic": "a b"})

        ntfy.clear()

        assert (ntfy.received(), ntfy.rejections()) == ((), ())


def test_recording_keeps_only_the_newest_items() -> None:
    recording: Recording[int] = Recording(maxlen=3)

    for item in range(5):
        recording.append(item)

    assert recording.items() == (2, 3, 4)


def test_script_fail_first_then_succeeds() -> None:
    script = fail_first(2, 500)

    outcomes = [script.next_step().outcome for _ in range(4)]

    assert outcomes == [500, 500, "ok", "ok"]


def test_script_sequence_settles_on_then() -> None:
    script = sequence(429, Step(503, retry_after=2), then=410)

    steps = [script.next_step() for _ in range(4)]

    assert steps == [Step(429), Step(503, 2), Step(410), Step(410)]


def test_script_always_repeats_its_outcome() -> None:
    script = always("reset")

    assert {script.next_step().outcome for _ in range(3)} == {"reset"}


async def _raw_pushes(port: int, requests: list[bytes]) -> list[bytes]:
    """Send requests one after another on one keep-alive connection; return status lines.
    (A raw client, because httpx's pool, not the server, is what slows down at 200 sockets.)"""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    statuses = []
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            statuses.append(head.split(b"\r\n", 1)[0])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
    finally:
        writer.close()
    return statuses


def test_standin_serves_200_concurrent_connections_with_50_ms_latency() -> None:
    """The benchmark's load: 1,000 encrypted pushes over 200 connections at 50 ms each."""
    messages, connections = 1000, 200
    with WebPushStandin(latency_ms=50) as webpush:
        subscriptions = [webpush.new_subscription() for _ in range(20)]
        authorization = vapid_authorization(ec.generate_private_key(ec.SECP256R1()), webpush.origin)
        requests = []
        for index in range(messages):
            target = subscriptions[index % len(subscriptions)]
            body = encrypt_for(target, b'{"notification_id":"ntf_%d"}' % index)
            path = target["endpoint"].removeprefix(webpush.url)
            head = (
                f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {authorization}\r\n"
                f"ttl: 60\r\ncontent-encoding: aes128gcm\r\ncontent-length: {len(body)}\r\n\r\n"
            )
            requests.append(head.encode() + body)
        per_connection = messages // connections

        async def run() -> list[list[bytes]]:
            return await asyncio.gather(
                *(
                    _raw_pushes(webpush.port, requests[i : i + per_connection])
                    for i in range(0, messages, per_connection)
                )
            )

        started = time.monotonic()
        statuses = [status for batch in asyncio.run(run()) for status in batch]
        elapsed = time.monotonic() - started

    assert statuses == [b"HTTP/1.1 201 "] * messages
    assert len(webpush.deliveries()) == messages
    assert webpush.connections == {"http/1.1": connections}
    # Five rounds of 50 ms plus decryption; a server taking one request at a time needs 50 s.
    assert elapsed < 10
