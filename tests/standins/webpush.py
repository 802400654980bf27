"""A stand-in for a Web Push service (RFC 8030) that also holds the user agent's keys, so it
checks VAPID (RFC 8292) like a push service and decrypts (RFC 8291) like a browser."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pushgate.crypto.aes128gcm import AUTH_SECRET_LENGTH
from tests.standins._script import OK, RESET, Behaviour, Script, as_script
from tests.standins._server import RESET as RESET_REPLY
from tests.standins._server import Refusal, Reply, Request, Response, StandinServer
from tests.standins._webpush_crypto import (
    DecryptionError,
    InvalidVapidError,
    VapidClaims,
    decrypt,
    verify_vapid_authorization,
)

# RFC 8030 §5.2 urgencies, §5.4 topic (at most 32 characters of the URL-safe base64 alphabet).
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TTL = re.compile(r"^\d+$")
# RFC 8291 §4: push services may refuse bodies over 4096 octets (413, RFC 8030 §7.2).
MAX_BODY_LENGTH = 4096
# RFC 8292 §2.1: the contact is a mailto: or https: URI.
_SUBJECT = re.compile(r"(?i)^(mailto:|https:)\S+$")
# Apple's push service (web.push.apple.com) also refuses a contact on a placeholder domain
# (`mailto:x@localhost`: 403 BadJwtToken, web-push-libs/web-push issue 947) and decodes the
# Topic as base64 (400 BadWebPushTopic when its length is 1 mod 4). The stand-in does both.
_CONTACT_DOMAIN = re.compile(r"(?i)^(?:mailto:[^@]*@|https://)([^/:?#]*)")
_PLACEHOLDER_TLDS = frozenset({"localhost", "invalid", "local", "test", "example"})
_PATH = re.compile(r"^/push/([A-Za-z0-9_-]{1,64})$")
# Statuses a script may ask for: what real push services answer (403 as Apple words it).
OUTCOMES = frozenset({OK, RESET, 400, 403, 404, 410, 413, 429, 500, 502, 503})
DEFAULT_RETRY_AFTER = 1
_P256 = ec.SECP256R1()


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One push request that passed the push service's checks, and what it was answered."""

    subscription_id: str
    endpoint: str
    status: int  # 201 delivered; a scripted status; 0 when the connection was reset
    payload: bytes  # decrypted, as the browser's service worker would see it
    ttl: int
    urgency: str | None
    topic: str | None
    claims: VapidClaims
    http_version: str
    received_at: float

    @property
    def delivered(self) -> bool:
        return self.status == 201

    @property
    def device(self) -> str:
        return self.subscription_id

    def json(self) -> Any:
        """The payload parsed as JSON (pushgate sends a JSON object); None when empty."""
        return json.loads(self.payload) if self.payload else None

    @property
    def notification_id(self) -> str | None:
        try:
            document = self.json()
        except ValueError:
            return None
        return document.get("notification_id") if isinstance(document, dict) else None


@dataclass(slots=True)
class _Subscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey | None = field(repr=False)
    auth: bytes | None = field(repr=False)
    application_server_key: str | None
    script: Script | None = None
    gone: bool = False


class WebPushStandin(StandinServer[PushMessage]):
    """A push service at `POST /push/<id>` plus the browsers subscribed to it.

    `new_subscription()` returns the subscription JSON a browser's `PushSubscription.toJSON()`
    gives; outcomes are scripted per subscription (`behaviour=` or `script()`).
    `decrypt_payloads=False` skips the browser's ECDH per message (benchmarks); the body is
    then only checked for its aes128gcm shape.
    """

    def __init__(self, *, decrypt_payloads: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.decrypt_payloads = decrypt_payloads
        self._subscriptions: dict[str, _Subscription] = {}
        self._state = threading.Lock()
        # Push services verify a VAPID token once and remember it until it expires.
        self._verified: dict[str, VapidClaims] = {}

    def new_subscription(
        self,
        behaviour: Behaviour | None = None,
        *,
        keyless: bool = False,
        application_server_key: str | None = None,
    ) -> dict[str, Any]:
        """Subscribe a new browser: `{"endpoint", "keys": {"p256dh", "auth"}}` (no "keys"
        when `keyless`). With `application_server_key` (base64url), only VAPID tokens signed
        by that key are accepted (403 otherwise), as for `subscribe({applicationServerKey})`.
        """
        subscription_id = secrets.token_urlsafe(16)
        private_key = None if keyless else ec.generate_private_key(_P256)
        auth = None if keyless else os.urandom(AUTH_SECRET_LENGTH)
        subscription = _Subscription(subscription_id, private_key, auth, application_server_key)
        if behaviour is not None:
            subscription.script = as_script(behaviour, OUTCOMES)
        with self._state:
            self._subscriptions[subscription_id] = subscription
        document: dict[str, Any] = {"endpoint": f"{self.url}/push/{subscription_id}"}
        if private_key is not None and auth is not None:
            point = private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            document["keys"] = {"p256dh": b64url_encode(point), "auth": b64url_encode(auth)}
        return document

    def script(self, subscription: str | Mapping[str, Any], behaviour: Behaviour) -> None:
        """What to answer for a subscription (its id, endpoint or JSON): "ok", "reset", an
        HTTP status (404, 410, 413, 429, 500, ...) or a Script."""
        script = as_script(behaviour, OUTCOMES)
        with self._state:
            self._subscriptions[subscription_id(subscription)].script = script

    def unsubscribe(self, subscription: str | Mapping[str, Any]) -> None:
        """The user revoked the subscription: pushes to it get 410 Gone from now on."""
        with self._state:
            self._subscriptions[subscription_id(subscription)].gone = True

    def messages(self, subscription: str | Mapping[str, Any]) -> tuple[PushMessage, ...]:
        """Messages delivered to one subscription, oldest first."""
        wanted = subscription_id(subscription)
        return tuple(record for record in self.delivered() if record.subscription_id == wanted)

    def attempts(self, subscription: str | Mapping[str, Any]) -> int:
        """Valid pushes to a subscription, answered with success or a scripted failure."""
        wanted = subscription_id(subscription)
        return sum(1 for record in self.received() if record.subscription_id == wanted)

    async def handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        with self._state:
            subscription = self._subscriptions.get(match.group(1)) if match else None
        if subscription is None:
            raise _refusal(404, "Not Found", "no such subscription")
        if request.method != "POST":
            raise _refusal(405, "Method Not Allowed", "push with POST")
        if subscription.gone:
            raise _refusal(410, "Gone", "the subscription has expired")
        claims = self._check_vapid(request, subscription)
        ttl, urgency, topic = _check_headers(request)
        payload = self._open_body(request, subscription)
        step = subscription.script.next_step() if subscription.script is not None else None
        outcome = step.outcome if step is not None else OK
        status = 201 if outcome == OK else 0 if outcome == RESET else int(outcome)
        self._record(
            PushMessage(
                subscription_id=subscription.id,
                endpoint=f"{self.url}{request.path}",
                status=status,
                payload=payload,
                ttl=ttl,
                urgency=urgency,
                topic=topic,
                claims=claims,
                http_version=request.http_version,
                received_at=self.now(),
            )
        )
        if outcome == RESET:
            return RESET_REPLY
        if outcome == OK:
            location = f"{self.url}/message/{secrets.token_urlsafe(12)}"
            return Response(201, headers=(("location", location), ("ttl", str(ttl))))
        retry_after = step.retry_after if step is not None else None
        if status == 429 and retry_after is None:
            retry_after = DEFAULT_RETRY_AFTER
        extra = (("retry-after", str(retry_after)),) if retry_after is not None else ()
        if status == 403:
            return Response.json(403, {"reason": "BadJwtToken"}, extra)
        return _error_response(status, "scripted", "scripted failure", extra)

    def _check_vapid(self, request: Request, subscription: _Subscription) -> VapidClaims:
        header = request.header("authorization")
        if not header:
            raise _refusal(401, "Unauthorized", "missing VAPID authorization")
        now = self.now()
        with self._state:
            claims = self._verified.get(header)
        if claims is None or not now < claims.expires_at:
            try:
                claims = verify_vapid_authorization(header, audience=self.origin, now=now)
            except InvalidVapidError as error:
                raise _refusal(401, "Unauthorized", str(error)) from None
            if not _SUBJECT.match(claims.subject):
                raise _refusal(401, "Unauthorized", "VAPID sub is not mailto:/https:")
            if _placeholder_contact(claims.subject):
                raise _apple_refusal(403, "BadJwtToken", "VAPID sub is a placeholder contact")
            with self._state:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[header] = claims
        expected_key = subscription.application_server_key
        if expected_key is not None and claims.public_key.rstrip("=") != expected_key.rstrip("="):
            raise _refusal(403, "Forbidden", "VAPID key differs from the subscription's key")
        return claims

    def _open_body(self, request: Request, subscription: _Subscription) -> bytes:
        body = request.body
        if not body:
            return b""
        if subscription.private_key is None or subscription.auth is None:
            raise _refusal(400, "Bad Request", "subscription has no keys")
        if len(body) > MAX_BODY_LENGTH:
            raise _refusal(413, "Payload Too Large", "body is over 4096 bytes")
        encoding = (request.header("content-encoding") or "").strip().lower()
        if encoding != "aes128gcm":
            raise _refusal(400, "Bad Request", "Content-Encoding is not aes128gcm")
        if not self.decrypt_payloads:
            return body
        try:
            return decrypt(body, subscription.private_key, subscription.auth)
        except DecryptionError as error:
            raise _refusal(400, "Bad Request", f"cannot decrypt: {error}") from None


def _check_headers(request: Request) -> tuple[int, str | None, str | None]:
    ttl = request.header("ttl")
    if ttl is None or not _TTL.match(ttl.strip()):
        raise _refusal(400, "Bad Request", "TTL header missing or invalid")
    urgency = request.header("urgency")
    if urgency is not None and urgency.strip() not in URGENCIES:
        raise _refusal(400, "Bad Request", "invalid Urgency header")
    topic = request.header("topic")
    if topic is not None and not _TOPIC.match(topic.strip()):
        raise _refusal(400, "Bad Request", "invalid Topic header")
    if topic is not None and len(topic.strip()) % 4 == 1:
        raise _apple_refusal(400, "BadWebPushTopic", "Topic is not base64 (length 1 mod 4)")
    return (
        int(ttl),
        urgency.strip() if urgency else None,
        topic.strip() if topic is not None else None,
    )


def _refusal(status: int, error: str, message: str) -> Refusal:
    return Refusal(_error_response(status, error, message), message)


def _apple_refusal(status: int, reason: str, message: str) -> Refusal:
    """A refusal worded the way web.push.apple.com words it: `{"reason": ...}` only."""
    return Refusal(Response.json(status, {"reason": reason}), message)


def _placeholder_contact(subject: str) -> bool:
    """Whether the contact's domain is localhost, a reserved name or example.<anything>."""
    match = _CONTACT_DOMAIN.match(subject)
    labels = (match.group(1) if match else "").lower().rstrip(".").split(".")
    return (
        len(labels) < 2
        or labels[-1] in _PLACEHOLDER_TLDS
        or labels[-2] == "example"
        or labels[-1].isdigit()
    )


def subscription_id(subscription: str | Mapping[str, Any]) -> str:
    """The id of a subscription given as its id, its endpoint or its JSON."""
    if isinstance(subscription, Mapping):
        subscription = str(subscription["endpoint"])
    return subscription.rstrip("/").rsplit("/", 1)[-1]


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _error_response(
    status: int, error: str, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    return Response.json(status, {"code": status, "error": error, "message": message}, headers)
