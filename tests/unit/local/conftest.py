"""One emulator per test module, and boto3 clients pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.emulator import EmulatorServer


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = EmulatorServer(sock)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def aws_client(emulator: EmulatorServer) -> Callable[[str], Any]:
    """A new client of the named service on the emulator (no retries: a refusal shows)."""

    def make(service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=emulator.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(max_pool_connections=64, retries={"max_attempts": 1}),
        )

    return make
