"""A stand-in for Mozilla's push service (autopush): the WebSocket side Firefox connects to
(autoconnect) and the HTTP side application servers push to (autoendpoint), on two ports of
127.0.0.1, so a real Firefox subscribes through it and pushgate's pushes reach that Firefox.

The WebSocket protocol is the one Firefox's client speaks (dom/push/PushServiceWebSocket.sys.mjs)
and autoconnect answers (autoconnect-common/src/protocol.rs): subprotocol `push-notification`;
`hello` (uaid, use_webpush) first; `register` {channelID, key} -> {status, pushEndpoint};
`unregister`; `notification` {channelID, version, data (base64url), headers {encoding}};
`ack` {updates: [{channelID, version, code}]} with code 100 delivered, 101 decryption failed,
102 not delivered; `nack` {version, code 301-303} when the worker's push handler failed; `{}`
is a ping. The HTTP side checks what autoendpoint checks, in its order
(autoendpoint/src/extractors/notification.rs, subscription.rs, notification_headers.rs).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from pushgate.crypto import b64decode
from tests.standins import _autopush_errors as errors
from tests.standins._recording import Recording
from tests.standins._server import Reply, Request, Response, StandinServer
from tests.standins._webpush_crypto import (
    InvalidVapidError,
    VapidClaims,
    verify_vapid_authorization,
)

SUBPROTOCOL = "push-notification"
# PushServiceWebSocket.sys.mjs, kACK_STATUS_TO_CODE.
ACK_DELIVERED, ACK_DECRYPTION_ERROR, ACK_NOT_DELIVERED = 100, 101, 102
# autoendpoint checks `exp` against now + 24 h (VapidClaims::default_exp).
VAPID_MAX_LIFETIME = 24 * 3600
# RFC 8291 §4 / RFC 8030 §7.2: a push service must accept 4096 octets; autopush documents
# AUTOEND__MAX_DATA_BYTES = 4096 (docs/src/config_options.md) and refuses more with 413 errno 104.
MAX_DATA_BYTES = 4096
_PATH = re.compile(r"^/wpush/(v1|v2)/([A-Za-z0-9_-]{1,128})$")
_TOPIC = re.compile(r"^[0-9A-Za-z_-]+=*$")
_CHANNEL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROTOCOL_ERROR_CLOSE = 1002
WAIT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Channel:
    """A subscription a browser registered: its endpoint and the key it subscribed with."""

    uaid: str
    channel_id: str
    endpoint: str
    key: str | None  # base64url of the applicationServerKey, None without one


@dataclass(frozen=True, slots=True)
class MozPush:
    """A push the HTTP side accepted (201) and passed to the browser's connection."""

    channel_id: str
    endpoint: str
    version: str
    body: bytes  # as sent: still encrypted, only the browser holds the keys
    encoding: str | None
    ttl: int
    topic: str | None
    claims: VapidClaims | None
    received_at: float
    status: int = 201

    @property
    def device(self) -> str:
        return self.channel_id

    @property
    def delivered(self) -> bool:
        return self.status == 201

    @property
    def notification_id(self) -> str | None:
        return None  # encrypted for the browser


@dataclass(frozen=True, slots=True)
class Ack:
    channel_id: str
    version: str
    code: int | None


@dataclass(frozen=True, slots=True)
class Nack:
    version: str
    code: int | None


@dataclass(slots=True)
class _Client:
    uaid: str
    connection: ServerConnection | None = None
    channels: set[str] = field(default_factory=set)
    # version -> the notification message, until the browser acks it (resent on reconnect)
    unacked: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class _Registration:
    channel: Channel
    token: str
    version: str  # "v1" without a key, "v2" with one, as autoconnect's make_endpoint
    gone: bool = False


class MozillaPushStandin(StandinServer[MozPush]):
    """autopush on 127.0.0.1: point Firefox's `dom.push.serverURL` at `ws_url`; the
    endpoints it hands out are `{url}/wpush/v1|v2/<token>`, and a VAPID `aud` is `origin`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(http2=False, **options)
        self._clients: dict[str, _Client] = {}
        self._registrations: dict[str, _Registration] = {}  # token -> registration
        self._by_channel: dict[str, _Registration] = {}
        self._state = threading.Lock()
        self._ws_server: Server | None = None
        self._ws_port: int | None = None
        self._acks: Recording[Ack] = Recording(10_000)
        self._nacks: Recording[Nack] = Recording(10_000)
        self._channels: Recording[Channel] = Recording(10_000)
        self._protocol_errors: Recording[str] = Recording(1000)

    # -- the WebSocket side ----------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        if self._ws_port is None:
            raise RuntimeError("MozillaPushStandin is not started")
        return f"ws://127.0.0.1:{self._ws_port}/"

    async def started(self) -> None:
        self._ws_server = await serve(
            self._socket, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL], max_size=1 << 16
        )
        self._ws_port = self._ws_server.sockets[0].getsockname()[1]

    async def stopping(self) -> None:
        if self._ws_server is not None:
            self._ws_server.close()
            await self._ws_server.wait_closed()

    async def _socket(self, connection: ServerConnection) -> None:
        client: _Client | None = None
        try:
            async for raw in connection:
                message = _parse(raw)
                kind = message.get("messageType") if message is not None else None
                if message == {} or kind == "ping":
                    await connection.send("{}")
                    continue
                if client is None and kind == "hello":
                    client = await self._hello(connection, message)
                elif client is not None and kind in _HANDLERS:
                    await _HANDLERS[kind](self, client, connection, message)
                else:
                    await self._violation(connection, f"unexpected message {raw!r:.200}")
                    return
        except ConnectionClosed:
            pass
        finally:
            if client is not None and client.connection is connection:
                client.connection = None

    async def _violation(self, connection: ServerConnection, reason: str) -> None:
        """autoconnect closes the socket on a message it cannot accept; recorded for tests."""
        self._protocol_errors.append(reason)
        await connection.close(PROTOCOL_ERROR_CLOSE, reason[:120])

    async def _hello(self, connection: ServerConnection, message: dict[str, Any]) -> _Client:
        uaid = message.get("uaid")
        with self._state:
            client = self._clients.get(uaid) if isinstance(uaid, str) else None
            if client is None:  # unknown or absent: a new user agent id (autoconnect does so)
                client = _Client(uuid.uuid4().hex)
                self._clients[client.uaid] = client
            client.connection = connection
            pending = list(client.unacked.values())
        hello = {"messageType": "hello", "uaid": client.uaid, "status": 200}
        await connection.send(json.dumps({**hello, "use_webpush": True, "broadcasts": {}}))
        for notification in pending:
            await connection.send(json.dumps(notification))
        return client

    async def _register(
        self, client: _Client, connection: ServerConnection, message: dict[str, Any]
    ) -> None:
        channel_id, key = message.get("channelID"), message.get("key")
        if not isinstance(channel_id, str) or not _CHANNEL_ID.match(channel_id):
            await self._violation(connection, f"register: invalid channelID {channel_id!r}")
            return
        status, endpoint = 200, ""
        if key is not None and not _valid_key(key):
            status, endpoint = 400, "Failed to generate endpoint"
        else:
            endpoint = self._add_channel(client, channel_id, key)
        reply = {"messageType": "register", "channelID": channel_id, "status": status}
        await connection.send(json.dumps({**reply, "pushEndpoint": endpoint}))

    def _add_channel(self, client: _Client, channel_id: str, key: str | None) -> str:
        token = secrets.token_urlsafe(32)
        version = "v2" if key else "v1"
        endpoint = f"{self.url}/wpush/{version}/{token}"
        normalized = key.rstrip("=") if key else None
        channel = Channel(client.uaid, channel_id, endpoint, normalized)
        with self._state:
            registration = _Registration(channel, token, version)
            self._registrations[token] = registration
            self._by_channel[channel_id] = registration
            client.channels.add(channel_id)
        self._channels.append(channel)
        return endpoint

    async def _unregister(
        self, client: _Client, connection: ServerConnection, message: dict[str, Any]
    ) -> None:
        channel_id = message.get("channelID")
        with self._state:
            registration = self._by_channel.get(channel_id) if channel_id else None
            if registration is not None and registration.channel.uaid == client.uaid:
                registration.gone = True
                client.channels.discard(channel_id)
        reply = {"messageType": "unregister", "channelID": channel_id, "status": 200}
        await connection.send(json.dumps(reply))

    async def _ack(
        self, client: _Client, connection: ServerConnection, message: dict[str, Any]
    ) -> None:
        updates = message.get("updates")
        for update in updates if isinstance(updates, list) else []:
            if not isinstance(update, dict):
                continue
            version, code = str(update.get("version")), update.get("code")
            with self._state:
                client.unacked.pop(version, None)
            self._acks.append(Ack(str(update.get("channelID")), version, code))

    async def _nack(
        self, client: _Client, connection: ServerConnection, message: dict[str, Any]
    ) -> None:
        self._nacks.append(Nack(str(message.get("version")), message.get("code")))

    async def _ignore(
        self, client: _Client, connection: ServerConnection, message: dict[str, Any]
    ) -> None:
        """broadcast_subscribe: the stand-in has no broadcasts to offer."""

    async def _notify(
        self, channel: Channel, body: bytes, encoding: str | None, ttl: int
    ) -> str | None:
        """Pass a push to the browser (now if connected, else on its next hello); the
        message's version, or None when it was dropped (TTL 0 and no connection)."""
        version = secrets.token_urlsafe(24)
        notification: dict[str, Any] = {
            "messageType": "notification",
            "channelID": channel.channel_id,
            "version": version,
        }
        if body:
            notification["data"] = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
            notification["headers"] = {"encoding": encoding}
        with self._state:
            client = self._clients[channel.uaid]
            connection = client.connection
            if connection is None and ttl == 0:
                return None
            client.unacked[version] = notification
        if connection is not None:
            with contextlib.suppress(ConnectionClosed):
                await connection.send(json.dumps(notification))
        return version

    # -- the HTTP side (autoendpoint) ------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        with self._state:
            registration = self._registrations.get(match.group(2)) if match else None
        if match is None or registration is None or registration.version != match.group(1):
            raise errors.refusal(errors.INVALID_TOKEN, "Invalid token")
        if request.method != "POST":
            return Response(405, b"push with POST")
        claims = self._check_vapid(request, registration)
        if registration.gone:
            raise errors.refusal(errors.NO_SUBSCRIPTION, "No such subscription")
        if len(request.body) > MAX_DATA_BYTES:
            raise errors.refusal(errors.PAYLOAD_TOO_LARGE, "A payload error occurred")
        ttl, topic, encoding = _check_headers(request)
        version = await self._notify(registration.channel, request.body, encoding, ttl)
        self._record(
            MozPush(
                channel_id=registration.channel.channel_id,
                endpoint=registration.channel.endpoint,
                version=version or "",
                body=request.body,
                encoding=encoding,
                ttl=ttl,
                topic=topic,
                claims=claims,
                received_at=self.now(),
            )
        )
        location = f"{self.url}/m/{secrets.token_urlsafe(16)}"
        return Response(201, headers=(("location", location), ("ttl", str(ttl))))

    def _check_vapid(self, request: Request, registration: _Registration) -> VapidClaims | None:
        header = request.header("authorization")
        if header is None:
            if registration.version == "v2":  # version_2_validation: VapidError::MissingKey
                raise errors.refusal(errors.VAPID, "Missing VAPID public key")
            return None
        try:
            claims = verify_vapid_authorization(
                header, audience=self.origin, now=self.now(), max_lifetime=VAPID_MAX_LIFETIME
            )
        except InvalidVapidError as error:
            raise errors.refusal(errors.VAPID, str(error)) from None
        key = registration.channel.key
        if key is not None and claims.public_key.rstrip("=") != key:
            raise errors.refusal(errors.VAPID, "VAPID public key mismatch")
        return claims

    # -- for tests ------------------------------------------------------------------------

    def channels(self) -> tuple[Channel, ...]:
        """Every subscription registered, oldest first."""
        return self._channels.items()

    def wait_for_channel(self, timeout: float = WAIT_SECONDS) -> Channel:
        """The first subscription registered, once there is one."""
        return self._channels.wait(bool, timeout)[0]

    def acks(self) -> tuple[Ack, ...]:
        return self._acks.items()

    def nacks(self) -> tuple[Nack, ...]:
        return self._nacks.items()

    def wait_for_ack(self, version: str, timeout: float = WAIT_SECONDS) -> Ack:
        """The browser's ack of one message; raises TimeoutError."""
        acks = self._acks.wait(lambda acks: any(a.version == version for a in acks), timeout)
        return next(a for a in acks if a.version == version)

    def protocol_errors(self) -> tuple[str, ...]:
        """Messages from the browser the service could not accept: a test expects none."""
        return self._protocol_errors.items()

    def connected(self, uaid: str) -> bool:
        with self._state:
            client = self._clients.get(uaid)
            return client is not None and client.connection is not None

    def send_raw(self, channel: Channel, body: bytes, encoding: str = "aes128gcm") -> str:
        """Hand a message to the browser without the HTTP side's checks (e.g. a corrupted
        ciphertext, to see the browser's ack code for it). Returns its version."""
        version = self.run_on_loop(self._notify(channel, body, encoding, 60), WAIT_SECONDS)
        assert version is not None
        return version


_HANDLERS = {
    "register": MozillaPushStandin._register,
    "unregister": MozillaPushStandin._unregister,
    "ack": MozillaPushStandin._ack,
    "nack": MozillaPushStandin._nack,
    "broadcast_subscribe": MozillaPushStandin._ignore,
}


def _parse(raw: str | bytes) -> dict[str, Any] | None:
    if isinstance(raw, bytes):
        return None  # the protocol is JSON text frames only
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _valid_key(key: Any) -> bool:
    """A P-256 public key as Firefox sends it: base64url (padded) of the 65-byte point."""
    try:
        point = b64decode(key) if isinstance(key, str) else b""
    except ValueError:
        return False
    return len(point) == 65 and point[0] == 0x04


def _check_headers(request: Request) -> tuple[int, str | None, str | None]:
    """TTL, Topic and Content-Encoding as NotificationHeaders::from_request checks them."""
    try:
        ttl = int((request.header("ttl") or "").strip())
    except ValueError:
        raise errors.refusal(errors.NO_TTL, "Missing TTL value") from None
    encoding = None
    if request.body:
        encoding = (request.header("content-encoding") or "").strip() or None
        if encoding is None:
            raise errors.refusal(errors.INVALID_ENCRYPTION, "Missing Content-Encoding header")
        # The stand-in accepts aes128gcm only: autopush still takes the legacy aesgcm
        # (draft 04, salt in an Encryption header), which pushgate never sends.
        if encoding != "aes128gcm":
            raise errors.refusal(errors.INVALID_ENCRYPTION, "Unknown Content-Encoding header")
        for name, param in (("encryption", "salt"), ("crypto-key", "dh")):
            if f"{param}=" in (request.header(name) or ""):
                raise errors.refusal(
                    errors.INVALID_ENCRYPTION, f"aes128gcm {name} header must not hold {param}"
                )
    if ttl < 0:
        raise errors.refusal(errors.NEGATIVE_TTL, "TTL must be greater than 0")
    topic = request.header("topic")
    if topic is not None and (len(topic) > 32 or not _TOPIC.match(topic)):
        raise errors.refusal(errors.INVALID_TOPIC, "Topic must be URL and Filename safe Base64")
    return ttl, topic, encoding
