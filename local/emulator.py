"""The AWS emulator: moto's threaded server on a socket the stack bound, one request at a time
per service."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from local import _moto

__all__ = ["EmulatorServer", "EmulatorStats", "SerializedApp", "operation_name"]

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/")
_QUERY_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)")
# A waiting receive re-checks at least this often (for messages whose visibility timeout
# ended) and at most this often (so an empty queue never keeps the lock busy).
_WAKE_INTERVAL = 0.25
_MIN_INTERVAL = 0.05


def operation_name(environ: dict[str, Any], body: bytes) -> str:
    """`service.Operation` of an AWS request (`dynamodb.Query`, `sqs.SendMessageBatch`): the
    JSON protocol's X-Amz-Target, or the query protocol's Action."""
    match = _CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}.{target.rpartition('.')[2]}"
    action = _QUERY_ACTION.search(body)
    if action:
        return f"{service}.{action.group(1).decode()}"
    return f"{service}.{environ.get('REQUEST_METHOD', '?')}"


class EmulatorStats:
    """Calls served and seconds spent in moto, per operation, since the emulator started:
    where the local stack's AWS time goes (`LocalStack.emulator_stats()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._busy: dict[str, float] = {}
        self._waiting = 0.0
        self.started = time.monotonic()

    def add(self, operation: str, busy: float, waited: float) -> None:
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
            self._busy[operation] = self._busy.get(operation, 0.0) + busy
            self._waiting += waited

    def snapshot(self) -> dict[str, Any]:
        """`{"uptime_s", "waiting_s", "operations": {name: {"calls", "busy_s"}}}`; busy is
        the time moto held the lock, waiting the time calls queued for it."""
        with self._lock:
            return {
                "uptime_s": time.monotonic() - self.started,
                "waiting_s": self._waiting,
                "operations": {
                    name: {"calls": calls, "busy_s": self._busy[name]}
                    for name, calls in self._calls.items()
                },
            }


class SerializedApp:
    """Runs emulator requests one at a time per service.

    moto's backends are not thread-safe (a DynamoDB conditional update is a read-modify-write
    in Python), and the functions' atomic counters must stay atomic under concurrent load.
    Each service's backend keeps its own state, so DynamoDB, SQS and KMS calls each take
    their service's lock (the service the request is signed for) and never wait for each
    other. SQS long polls would hold the lock for seconds, so a `ReceiveMessage` with a wait
    is replayed as short polls under the lock, waiting outside it for the queue to get a
    message, and replayed only once the queue has a visible one."""

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        stats: EmulatorStats | None = None,
    ) -> None:
        self._app = app
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.stats = stats if stats is not None else EmulatorStats()

    def _lock(self, service: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(service, threading.Lock())

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        body = _read_body(environ)
        receive = _sqs_receive(environ, body)
        if receive is None:
            status, headers, payload = self._call(environ, body)
        else:
            lock = self._lock("sqs")
            deadline = time.monotonic() + receive.wait_seconds
            status, headers, payload = self._call(environ, receive.body)
            while _empty_receive(status, payload):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                receive.wait(min(remaining, _WAKE_INTERVAL))
                with lock:
                    ready = receive.has_messages()
                if ready:
                    status, headers, payload = self._call(environ, receive.body)
        start_response(status, headers)
        return [payload]

    def _call(self, environ: dict[str, Any], body: bytes) -> tuple[str, list[Any], bytes]:
        request = dict(environ)
        request["wsgi.input"] = io.BytesIO(body)
        request["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[Any], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        operation = operation_name(environ, body)
        service, _, action = operation.partition(".")
        queued = time.perf_counter()
        with self._lock(service):
            started = time.perf_counter()
            if service == "dynamodb":
                _moto.note_request(action, body)
            result = self._app(request, capture)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            finished = time.perf_counter()
        self.stats.add(operation, finished - started, started - queued)
        return captured["status"], captured["headers"], b"".join(chunks)


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


@dataclass(frozen=True)
class _Receive:
    """An SQS ReceiveMessage that may wait: replayed with `body` (no wait) until a message
    comes or `wait_seconds` pass."""

    wait_seconds: float
    body: bytes
    queue: Any  # moto's Queue, when it can be found

    def wait(self, timeout: float) -> None:
        """Sleeps until a message is sent to the queue or `timeout` passes. Messages that
        become visible again (visibility timeout, delay) send no signal, hence the cap."""
        started = time.monotonic()
        if self.queue is not None:
            self.queue.wait_for_messages(timeout)
        # Never spin: visible messages the receive could not take (a busy FIFO group) make
        # wait_for_messages return at once.
        time.sleep(max(0.0, min(timeout, _MIN_INTERVAL) - (time.monotonic() - started)))

    def has_messages(self) -> bool:
        """Whether a replay could get a message (call under the SQS lock): the queue has a
        visible one, or the queue is unknown and only moto can tell."""
        return self.queue is None or bool(self.queue.messages)


def _sqs_receive(environ: dict[str, Any], body: bytes) -> _Receive | None:
    """Describes an SQS ReceiveMessage that may wait (JSON or query protocol)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target == "AmazonSQS.ReceiveMessage":
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return None
        wait = params.get("WaitTimeSeconds")
        params["WaitTimeSeconds"] = 0
        new_body = json.dumps(params).encode()
    elif not target and b"Action=ReceiveMessage" in body:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = dict(pairs)
        wait = params.get("WaitTimeSeconds")
        pairs = [(key, value) for key, value in pairs if key != "WaitTimeSeconds"]
        new_body = urlencode([*pairs, ("WaitTimeSeconds", "0")]).encode()
    else:
        return None
    queue = _moto_queue(environ, str(params.get("QueueUrl", "")))
    if wait is None:
        wait = getattr(queue, "receive_message_wait_time_seconds", 0)
    try:
        seconds = max(0.0, min(float(wait), 20.0))
    except (TypeError, ValueError):
        return None
    return _Receive(seconds, new_body, queue) if seconds > 0 else None


def _moto_queue(environ: dict[str, Any], queue_url: str) -> Any:
    """moto's queue object for a queue URL, or None (moto then answers with its own error)."""
    from moto.sqs.models import sqs_backends

    match = _CREDENTIAL_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    parts = queue_url.rstrip("/").split("/")
    if not match or len(parts) < 2:
        return None
    try:
        return sqs_backends[parts[-2]][match.group(1)].get_queue(parts[-1])
    except Exception:
        return None


def _empty_receive(status: str, payload: bytes) -> bool:
    if not status.startswith("200"):
        return False
    if payload.lstrip().startswith(b"{"):
        try:
            return not json.loads(payload).get("Messages")
        except ValueError:
            return False
    return b"<Message>" not in payload


class _QuietRequestHandler(MotoRequestHandler):
    """Request lines go to the `local.emulator` logger at debug level, not to stderr."""

    # werkzeug writes the head and the body separately; don't let Nagle hold the body back.
    disable_nagle_algorithm = True

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), message % args)


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host: moto lists its package
    directory (hundreds of `stat` calls) for every request to find out."""

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one dispatcher per emulator, kept alive
    def get_backend_for_host(self, host: str | None) -> Any:
        return super().get_backend_for_host(host)


class EmulatorServer(ThreadedMotoServer):
    """moto's `ThreadedMotoServer` serving on an already-bound socket.

    The stack binds the socket itself so that a taken port is a clear error (werkzeug would
    call `sys.exit` inside the server thread and `start()` would wait forever)."""

    def __init__(self, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(ip_address=host, port=port, verbose=False)
        self._socket = sock
        self._startup_error: BaseException | None = None
        self.url = f"http://{host}:{port}"
        self.stats = EmulatorStats()

    def _server_entry(self) -> None:
        try:
            _moto.install()
            app = SerializedApp(_Dispatcher(create_backend_app), self.stats)
            self._server = make_server(
                self._ip_address,
                self._port,
                app,
                True,
                request_handler=_QuietRequestHandler,
                fd=self._socket.fileno(),
            )
        except BaseException as exc:  # reported by start(), never lost in the thread
            self._startup_error = exc
            return
        finally:
            self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.1)

    def start(self) -> None:
        super().start()
        if self._startup_error is not None:
            raise self._startup_error

    def stop(self) -> None:
        if self._server is not None:
            super().stop()
            self._server.server_close()
        self._socket.close()
