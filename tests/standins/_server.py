"""The HTTP core the stand-ins share: an asyncio server on 127.0.0.1 in a background thread,
speaking HTTP/1.1 (h11) and HTTP/2 (h2: ALPN over TLS, prior knowledge over cleartext)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import h11

from pushgate import clock
from tests.standins._recording import Recording
from tests.standins._tls import SelfSignedCertificate

# RFC 9113 §3.4: a client speaking HTTP/2 with prior knowledge opens with this preface.
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
READ_CHUNK = 65536
MAX_HEADER_BYTES = 16 * 1024
# Bodies above this are refused before any handler sees them; each stand-in applies the
# (smaller) limit of the service it imitates itself.
DEFAULT_MAX_BODY = 1 << 20
# A burst of 1,000 connects must not overflow the accept queue (asyncio's default is 100).
LISTEN_BACKLOG = 1024
START_TIMEOUT_SECONDS = 10
SERVER_HEADER = ("server", "pushgate-standin")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the stand-in received it. Header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    http_version: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, (("content-type", "application/json; charset=UTF-8"), *headers))


class Reset:
    """Answer nothing: abort the TCP connection (HTTP/1.1) or reset the stream (HTTP/2)."""

    def __repr__(self) -> str:
        return "RESET"


RESET = Reset()
Reply = Response | Reset


class Refusal(Exception):
    """Raised by a stand-in's checks: the real service refuses the request with `response`.
    The server records it in `rejections()` with `reason` and answers `response`."""

    def __init__(self, response: Response, reason: str) -> None:
        super().__init__(reason)
        self.response = response
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request the stand-in refused because the real service would have: why, and how."""

    method: str
    path: str
    status: int
    reason: str


class DeliveryRecord(Protocol):
    """What every recorded request offers to `StandinServer.count` and `deliveries`."""

    @property
    def device(self) -> str: ...

    @property
    def delivered(self) -> bool: ...

    @property
    def notification_id(self) -> str | None: ...


RecordT = TypeVar("RecordT", bound=DeliveryRecord)
T = TypeVar("T")


class StandinServer(Generic[RecordT]):
    """Lifecycle, URL, TLS, latency and recording shared by the stand-ins.

    Subclasses implement `handle`. `start()` returns once the port is bound; `stop()` closes
    every connection and joins the thread. Usable as a context manager.

    Options: `latency_ms` added before every answer (settable while running); `tls` serves
    https with a fresh self-signed certificate (trust it with `client_ssl_context()`);
    `http2` offers h2 by ALPN and accepts h2 prior knowledge on cleartext; `now` is the clock
    for expiry checks, pushgate's one clock by default so a test that moves it moves the
    services too.
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0,
        tls: bool = False,
        http2: bool = True,
        max_body: int = DEFAULT_MAX_BODY,
        max_connections: int = 1024,
        max_concurrent_streams: int = 100,
        max_records: int = 100_000,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.latency_ms = latency_ms
        self._tls = SelfSignedCertificate.generate() if tls else None
        self._http2 = http2
        self._max_body = max_body
        self._max_connections = max_connections
        self._max_concurrent_streams = max_concurrent_streams
        self._now = now if now is not None else clock.epoch
        self._received: Recording[RecordT] = Recording(max_records)
        self._rejections: Recording[Rejection] = Recording(max_records)
        self._errors: Recording[str] = Recording(1000)
        self._connections: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None
        self._startup_error: BaseException | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        ready = threading.Event()
        self._startup_error = None
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"{type(self).__name__} did not start")
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"{type(self).__name__} failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and TLS -----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def origin(self) -> str:
        """scheme://127.0.0.1:port, what a VAPID `aud` must name."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.origin

    @property
    def ca_pem(self) -> bytes | None:
        """The self-signed certificate to trust (PEM), when started with `tls=True`."""
        return self._tls.cert_pem if self._tls else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this stand-in, e.g. `httpx.Client(verify=...)`."""
        if self._tls is None:
            raise RuntimeError("started without tls=True")
        return self._tls.client_context()

    # -- what was received -----------------------------------------------------------------

    def received(self) -> tuple[RecordT, ...]:
        """Every request that passed the service's checks, with the status it was answered."""
        return self._received.items()

    def delivered(self) -> tuple[RecordT, ...]:
        return tuple(record for record in self._received.items() if record.delivered)

    def rejections(self) -> tuple[Rejection, ...]:
        """Requests refused by a check (not by a script), with the reason."""
        return self._rejections.items()

    def errors(self) -> tuple[str, ...]:
        """Failures of the stand-in itself (answered 500): a test should expect none."""
        return self._errors.items()

    def deliveries(self) -> Counter[tuple[str | None, str]]:
        """Delivered messages counted per (notification_id, device)."""
        return Counter((record.notification_id, record.device) for record in self.delivered())

    def count(self, notification_id: str | None = None, device: str | None = None) -> int:
        """How many delivered messages match the given notification id and/or device."""
        return sum(
            1
            for record in self.delivered()
            if (notification_id is None or record.notification_id == notification_id)
            and (device is None or record.device == device)
        )

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> tuple[RecordT, ...]:
        """Block until `count` messages were delivered; raises TimeoutError."""
        self._received.wait(
            lambda records: sum(1 for record in records if record.delivered) >= count, timeout
        )
        return self.delivered()

    def clear(self) -> None:
        """Forget what was received and rejected (scripts and registrations stay)."""
        self._received.clear()
        self._rejections.clear()
        self._errors.clear()

    @property
    def connections(self) -> Mapping[str, int]:
        """Connections accepted so far, per protocol ("http/1.1", "h2")."""
        with self._lock:
            return dict(self._connections)

    # -- for subclasses --------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def now(self) -> float:
        return self._now()

    async def started(self) -> None:
        """Runs on the server's loop once the port is bound, before `start()` returns: where
        a subclass starts what it serves beside HTTP (the Mozilla push stand-in's WebSocket)."""

    async def stopping(self) -> None:
        """Runs on the server's loop when it stops, before its connections are closed."""

    def run_on_loop(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coroutine` on the server's loop from another thread and wait for its result."""
        if self._loop is None:
            coroutine.close()
            raise RuntimeError(f"{type(self).__name__} is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _record(self, record: RecordT) -> None:
        self._received.append(record)

    # -- the event loop thread -------------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as error:  # reported to start(), which re-raises it
            self._startup_error = error
        finally:
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server_ssl = self._tls.server_context(http2=self._http2) if self._tls else None
        server = await asyncio.start_server(
            self._connection,
            "127.0.0.1",
            self._port or 0,
            ssl=server_ssl,
            backlog=LISTEN_BACKLOG,
            limit=READ_CHUNK,
        )
        self._port = server.sockets[0].getsockname()[1]
        try:
            await self.started()
            ready.set()
            await self._stopping.wait()
        finally:
            await self.stopping()
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._writers) >= self._max_connections:
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            if ssl_object is not None:
                http2 = ssl_object.selected_alpn_protocol() == "h2"
                # HTTP/1.1 over TLS: the first bytes of the request (an empty read is EOF).
                initial = b"" if http2 else await reader.read(READ_CHUNK)
            else:
                initial = await _sniff_preface(reader)
                http2 = self._http2 and initial.startswith(H2_PREFACE)
            protocol = "h2" if http2 else "http/1.1"
            with self._lock:
                self._connections[protocol] += 1
            if http2:
                await _H2Session(self, reader, writer, initial).serve()
            else:
                await self._serve_http1(reader, writer, initial)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _dispatch(self, request: Request) -> Reply:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        try:
            return await self.handle(request)
        except Refusal as refusal:
            self._rejections.append(
                Rejection(request.method, request.path, refusal.response.status, refusal.reason)
            )
            return refusal.response
        except Exception as error:  # a bug in the stand-in: visible to tests via errors()
            self._errors.append(f"{request.method} {request.path}: {error!r}")
            return Response.json(500, {"error": f"stand-in failure: {error!r}"})

    async def _serve_http1(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, initial: bytes
    ) -> None:
        if not initial:
            return
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        connection.receive_data(initial)
        while True:
            try:
                request = await self._read_http1_request(connection, reader)
            except h11.RemoteProtocolError:
                if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    writer.write(_http1_bytes(connection, Response(400, b"malformed request")))
                    await writer.drain()
                return
            if request is None:
                return
            reply = (
                Response(413, b"request body too large")
                if isinstance(request, _TooLarge)
                else await self._dispatch(request)
            )
            if isinstance(reply, Reset):
                _abort_with_rst(writer)
                return
            writer.write(_http1_bytes(connection, reply))
            await writer.drain()
            if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                return
            connection.start_next_cycle()

    async def _read_http1_request(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> Request | _TooLarge | None:
        async def next_event() -> Any:
            while True:
                event = connection.next_event()
                if event is not h11.NEED_DATA:
                    return event
                connection.receive_data(await reader.read(READ_CHUNK))

        head = await next_event()
        if not isinstance(head, h11.Request):
            return None
        body = bytearray()
        while True:
            event = await next_event()
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._max_body:
                    return _TooLarge()
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return None
        target = head.target.decode("latin-1")
        path, _, query = target.partition("?")
        return Request(
            method=head.method.decode("ascii"),
            path=path,
            query=query,
            headers=_join_headers(
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers
            ),
            body=bytes(body),
            http_version="1.1",
        )


class _TooLarge:
    """A request whose body passed the hard limit: answered 413 without a handler."""


class _H2Session:
    """One HTTP/2 connection: frames in, a task per stream, frames out."""

    def __init__(
        self,
        server: StandinServer[Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        initial: bytes,
    ) -> None:
        self._server = server
        self._reader = reader
        self._writer = writer
        self._initial = initial
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self._connection = h2.connection.H2Connection(config=config)
        self._streams: dict[int, tuple[list[tuple[str, str]], bytearray]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._window_updated = asyncio.Event()
        self._closed = False

    async def serve(self) -> None:
        self._connection.initiate_connection()
        self._connection.update_settings(
            {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self._server._max_concurrent_streams}
        )
        self._flush()
        try:
            if self._initial:
                self._receive(self._initial)
            while not self._closed:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    break
                self._receive(data)
                await self._writer.drain()
        finally:
            for task in self._tasks.values():
                task.cancel()

    def _receive(self, data: bytes) -> None:
        try:
            events = self._connection.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self._closed = True
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._streams[event.stream_id] = (list(event.headers or ()), bytearray())
            elif isinstance(event, h2.events.DataReceived):
                self._connection.acknowledge_received_data(
                    event.flow_controlled_length, event.stream_id
                )
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    stream[1].extend(event.data or b"")
                    if len(stream[1]) > self._server._max_body:
                        del self._streams[event.stream_id]
                        self._connection.reset_stream(
                            event.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM
                        )
            elif isinstance(event, h2.events.StreamEnded):
                stream = self._streams.pop(event.stream_id, None)
                if stream is not None:
                    task = asyncio.create_task(self._respond(event.stream_id, *stream))
                    self._tasks[event.stream_id] = task
                    task.add_done_callback(lambda _, sid=event.stream_id: self._tasks.pop(sid))
            elif isinstance(event, h2.events.StreamReset):
                self._streams.pop(event.stream_id, None)
                task = self._tasks.get(event.stream_id)
                if task is not None:
                    task.cancel()
            elif isinstance(event, h2.events.WindowUpdated):
                self._window_updated.set()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self._closed = True
        self._flush()

    async def _respond(self, stream_id: int, headers: list[tuple[str, str]], body: bytes) -> None:
        pseudo = {name: value for name, value in headers if name.startswith(":")}
        path, _, query = pseudo.get(":path", "/").partition("?")
        regular = [(name, value) for name, value in headers if not name.startswith(":")]
        if ":authority" in pseudo:
            regular.append(("host", pseudo[":authority"]))
        request = Request(
            method=pseudo.get(":method", "GET"),
            path=path,
            query=query,
            headers=_join_headers(regular),
            body=bytes(body),
            http_version="2",
        )
        reply = await self._server._dispatch(request)
        try:
            if isinstance(reply, Reset):
                self._connection.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                self._flush()
                return
            response_headers = [
                (":status", str(reply.status)),
                SERVER_HEADER,
                ("content-length", str(len(reply.body))),
                *((name.lower(), value) for name, value in reply.headers),
            ]
            self._connection.send_headers(stream_id, response_headers, end_stream=not reply.body)
            await self._send_body(stream_id, reply.body)
            self._flush()
            await self._writer.drain()
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass  # the client gave up on this stream

    async def _send_body(self, stream_id: int, body: bytes) -> None:
        view = memoryview(body)
        while view:
            window = self._connection.local_flow_control_window(stream_id)
            if window <= 0:
                self._flush()
                self._window_updated.clear()
                await self._window_updated.wait()
                continue
            size = min(window, self._connection.max_outbound_frame_size, len(view))
            self._connection.send_data(stream_id, bytes(view[:size]), end_stream=size == len(view))
            view = view[size:]

    def _flush(self) -> None:
        data = self._connection.data_to_send()
        if data:
            self._writer.write(data)


async def _sniff_preface(reader: asyncio.StreamReader) -> bytes:
    """Read until the bytes are either the HTTP/2 preface or something else."""
    data = b""
    while len(data) < len(H2_PREFACE) and H2_PREFACE.startswith(data):
        chunk = await reader.read(READ_CHUNK)
        if not chunk:
            break
        data += chunk
    return data


def _http1_bytes(connection: h11.Connection, response: Response) -> bytes:
    headers = [
        SERVER_HEADER,
        ("content-length", str(len(response.body))),
        *response.headers,
    ]
    data = connection.send(h11.Response(status_code=response.status, headers=headers)) or b""
    if response.body:
        data += connection.send(h11.Data(data=response.body)) or b""
    return data + (connection.send(h11.EndOfMessage()) or b"")


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0 so the client sees ECONNRESET, not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _join_headers(pairs: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
