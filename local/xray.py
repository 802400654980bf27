"""A stand-in for the X-Ray daemon: the functions' X-Ray SDK sends it segment documents over
UDP, as in Lambda; it keeps the latest ones for tests to read and drops the rest."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from typing import Any

__all__ = ["TraceSink"]

_MAX_DATAGRAM = 65_535


class TraceSink:
    """Listens on a free UDP port of `host`; `documents()` are the segments received, oldest
    first, at most `capacity` of them."""

    def __init__(self, host: str = "127.0.0.1", *, capacity: int = 10_000) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, 0))
        self._socket.settimeout(0.2)
        self._datagrams: deque[bytes] = deque(maxlen=capacity)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="xray-sink", daemon=True)

    @property
    def address(self) -> str:
        """`host:port`, what AWS_XRAY_DAEMON_ADDRESS names."""
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> TraceSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._socket.close()

    def documents(self) -> list[dict[str, Any]]:
        """Every segment or subsegment document received (each after the daemon protocol's
        header line), parsed."""
        parsed = []
        for datagram in list(self._datagrams):
            _, _, body = datagram.partition(b"\n")
            with contextlib.suppress(ValueError):
                parsed.append(json.loads(body))
        return parsed

    def _receive(self) -> None:
        while not self._stopping.is_set():
            try:
                self._datagrams.append(self._socket.recv(_MAX_DATAGRAM))
            except TimeoutError:
                continue
            except OSError:
                return
