"""The tarpit: a byte at a time, headers included, so per-read timeouts never fire."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.standins.tarpit import TarpitServer


def test_tarpit_trickles_the_status_line_one_byte_per_interval() -> None:
    with (
        TarpitServer(interval=0.1) as tarpit,
        socket.create_connection(("127.0.0.1", tarpit.port), timeout=2) as sock,
    ):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: tarpit\r\n\r\n")
        started = time.monotonic()
        received = b""
        while len(received) < 6:
            received += sock.recv(100)
        elapsed = time.monotonic() - started

        assert received == b"HTTP/1"
        assert 0.45 <= elapsed < 2.0  # six bytes at 0.1 s, with slack for a loaded machine
        assert len(tarpit.accepted()) == 1


def test_tarpit_holds_a_client_with_per_read_timeouts_past_them() -> None:
    with TarpitServer(interval=0.15, duration=1.5) as tarpit, httpx.Client(timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):  # dropped after `duration`, no answer
            client.get(tarpit.url)
        elapsed = time.monotonic() - started

    assert 1.4 <= elapsed < 2.5  # three times the 0.5 s timeout, which never fired
