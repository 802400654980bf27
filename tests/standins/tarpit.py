"""A tarpit: accepts every connection and answers one byte at a time, every `interval`
seconds (0.15 by default), status line and headers included, and never completes a header.
A client that bounds each read (httpx's timeouts) waits for as long as the tarpit trickles
(`duration`, then it drops the connection); only a total deadline gets it out on time."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any

from tests.standins._recording import Recording
from tests.standins._server import StandinServer

# A response that looks like it is coming: the status line, then one header that never ends.
_TRICKLE = b"HTTP/1.1 200 OK\r\nx-tarpit: "
DEFAULT_INTERVAL_SECONDS = 0.15
DEFAULT_DURATION_SECONDS = 60.0


class TarpitServer(StandinServer[Any]):
    """`accepted()` lists when each connection was accepted (`time.monotonic()`); requests
    are read and ignored. TLS as every stand-in (`tls=True`)."""

    def __init__(
        self,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        duration: float = DEFAULT_DURATION_SECONDS,
        **options: Any,
    ) -> None:
        super().__init__(http2=False, **options)
        self.interval = interval
        self.duration = duration
        self._accepted: Recording[float] = Recording(10_000)

    def accepted(self) -> tuple[float, ...]:
        return self._accepted.items()

    # Replaces the HTTP handling of StandinServer: the tarpit never reads a request through.
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._accepted.append(time.monotonic())
        ignoring = asyncio.create_task(_discard(reader))
        try:
            stop_at = time.monotonic() + self.duration
            trickle = itertools.chain(_TRICKLE, itertools.repeat(ord("a")))
            while time.monotonic() < stop_at:
                writer.write(bytes([next(trickle)]))
                await writer.drain()
                await asyncio.sleep(self.interval)
        except (ConnectionError, OSError):
            pass
        finally:
            ignoring.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ignoring
            self._writers.discard(writer)
            writer.transport.abort()


async def _discard(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(65536):
            pass
