"""Firebase Cloud Messaging over the HTTP v1 API: service accounts, OAuth2 access tokens, the
message body, and the classification of FCM's answers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pushgate import clock
from pushgate.outbound import DEFAULT_DEADLINE_SECONDS, DEFAULT_TIMEOUT
from pushgate.providers import _http
from pushgate.providers._rfc8030 import Urgency, topic_header, urgency_header
from pushgate.providers.exceptions import AccessTokenError, InvalidServiceAccountError
from pushgate.providers.result import Outcome, parse_retry_after

DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)
DEFAULT_API_URL = "https://fcm.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google accepts assertions that live at most one hour
TOKEN_REFRESH_MARGIN = 300  # an access token is replaced five minutes before it expires
DEFAULT_TTL = 3600
# APNs refuses collapse ids over 64 bytes; the message still goes, without one.
MAX_APNS_COLLAPSE_ID_BYTES = 64
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
# FCM's message for a malformed token (lowercased); the token itself is never in it.
INVALID_TOKEN_MESSAGE = "registration token is not a valid fcm registration token"  # noqa: S105

logger = logging.getLogger(__name__)

_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_OAUTH_ERROR = re.compile(r"[a-z][a-z0-9_]{0,63}")
_RETRYABLE = frozenset((429, 500, 502, 503, 504))


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The fields of a Google service-account key file that FCM needs, validated."""

    project_id: str
    client_email: str
    private_key_id: str
    token_uri: str
    private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)
    # Identifies the key itself, so two uploads naming the same account but holding different
    # keys never share a cached access token.
    key_fingerprint: str = field(repr=False)

    @classmethod
    def parse(cls, source: str | bytes | Mapping[str, Any]) -> ServiceAccount:
        """Read the JSON Google issues (a dict or its text). Raises
        `InvalidServiceAccountError`, whose message names the field but never its value."""
        if isinstance(source, str | bytes | bytearray):
            try:
                source = json.loads(source)
            except ValueError:
                raise InvalidServiceAccountError("service account is not valid JSON") from None
        if not isinstance(source, Mapping):
            raise InvalidServiceAccountError("service account must be a JSON object")
        if source.get("type", "service_account") != "service_account":
            raise InvalidServiceAccountError("service account type must be service_account")
        project_id = _required(source, "project_id")
        if not _PROJECT_ID.fullmatch(project_id):
            raise InvalidServiceAccountError("service account project_id is malformed")
        client_email = _required(source, "client_email")
        if "@" not in client_email or any(c.isspace() for c in client_email):
            raise InvalidServiceAccountError("service account client_email is malformed")
        private_key_id = _required(source, "private_key_id")
        token_uri = source.get("token_uri", DEFAULT_TOKEN_URL)
        if not isinstance(token_uri, str) or urlsplit(token_uri).scheme not in ("https", "http"):
            raise InvalidServiceAccountError("service account token_uri must be a URL")
        private_key = _load_rsa_key(_required(source, "private_key"))
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(
            project_id=project_id,
            client_email=client_email,
            private_key_id=private_key_id,
            token_uri=token_uri,
            private_key=private_key,
            key_fingerprint=hashlib.sha256(public_der).hexdigest(),
        )


def _required(source: Mapping[str, Any], name: str) -> str:
    value = source.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidServiceAccountError(f"service account {name} is missing or not a string")
    return value.strip()


def _load_rsa_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidServiceAccountError(
            "service account private_key is not a readable PEM key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidServiceAccountError("service account private_key must be an RSA key")
    return key


@dataclass(frozen=True, slots=True)
class _AccessToken:
    value: str = field(repr=False)
    refresh_at: float


class FcmAccessTokens:
    """OAuth2 access tokens for service accounts (RFC 7523 JWT-bearer grant), cached until
    five minutes before they expire. Concurrent callers for one account share one request.

    The token URL is deployment configuration (`PUSHGATE_GOOGLE_TOKEN_URL`), never the
    account's own `token_uri`: accounts are uploaded per app, and a tenant must not choose
    where pushgate sends signed assertions.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        now: Callable[[], float] = clock.epoch,
    ) -> None:
        self._client = client
        self._token_url = token_url
        self._timeout = timeout
        self._deadline = deadline
        self._now = now
        self._tokens: dict[tuple[str, str, str], _AccessToken] = {}
        # Fetches in flight, as tasks of the loop that started them: a loop that has ended
        # (tests run one per case; Lambda keeps one per container) leaves a task no one can
        # await, so a caller on another loop starts its own.
        self._fetches: dict[tuple[str, str, str], asyncio.Task[_AccessToken]] = {}

    async def get(self, account: ServiceAccount) -> str:
        """A valid access token for `account`. Raises `AccessTokenError`."""
        key = _cache_key(account)
        cached = self._tokens.get(key)
        if cached is not None and self._now() < cached.refresh_at:
            return cached.value
        loop = asyncio.get_running_loop()
        fetch = self._fetches.get(key)
        if fetch is None or fetch.get_loop() is not loop:
            fetch = loop.create_task(self._fetch(account))
            self._fetches[key] = fetch
            fetch.add_done_callback(lambda task: self._fetch_done(key, task))
        # Shielded: one caller being cancelled must not cancel the fetch the others await.
        return (await asyncio.shield(fetch)).value

    def invalidate(self, account: ServiceAccount, token: str | None = None) -> None:
        """Forget the cached token (FCM answered 401). With `token`, only if it is still the
        cached one, so a burst of 401s for the same stale token refreshes once."""
        key = _cache_key(account)
        cached = self._tokens.get(key)
        if cached is not None and (token is None or cached.value == token):
            del self._tokens[key]

    def _fetch_done(self, key: tuple[str, str, str], task: asyncio.Task[_AccessToken]) -> None:
        if self._fetches.get(key) is task:
            del self._fetches[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not logged as lost

    async def _fetch(self, account: ServiceAccount) -> _AccessToken:
        import jwt  # PyJWT costs ~50 ms of cold start; only FCM deliveries need it

        issued_at = int(self._now())
        assertion = jwt.encode(
            {
                "iss": account.client_email,
                "scope": SCOPE,
                "aud": self._token_url,
                "iat": issued_at,
                "exp": issued_at + ASSERTION_LIFETIME,
            },
            account.private_key,
            algorithm="RS256",
            headers={"kid": account.private_key_id},
        )
        try:
            reply = await _http.post(
                self._client,
                self._token_url,
                headers={"Accept": "application/json"},
                data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
                timeout=self._timeout,
                deadline=self._deadline,
            )
        except _http.TRANSPORT_ERRORS as error:
            raise AccessTokenError(_http.transport_outcome(error)) from None
        body = _json_object(reply.body)
        if reply.status_code != 200:
            raise AccessTokenError(self._refusal(reply, body))
        value, expires_in = body.get("access_token"), body.get("expires_in", ASSERTION_LIFETIME)
        if (
            not isinstance(value, str)
            or not value
            or not isinstance(expires_in, int | float)
            or isinstance(expires_in, bool)
            or expires_in <= 0
        ):
            raise AccessTokenError(Outcome.failed("fcm_auth:malformed_response", 200))
        # Five minutes early, or halfway for a token that lives less than ten.
        margin = min(TOKEN_REFRESH_MARGIN, expires_in / 2)
        token = _AccessToken(value, issued_at + expires_in - margin)
        self._tokens[_cache_key(account)] = token
        return token

    def _refusal(self, reply: _http.Reply, body: dict[str, Any]) -> Outcome:
        status = reply.status_code
        if status in _RETRYABLE:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"), now=self._now())
            return Outcome.retry(f"fcm_auth:{status}", status, retry_after)
        oauth_error = body.get("error")
        if isinstance(oauth_error, str) and _OAUTH_ERROR.fullmatch(oauth_error):
            return Outcome.failed(f"fcm_auth:{oauth_error}", status)
        return Outcome.failed(f"fcm_auth:{status}", status)


def _cache_key(account: ServiceAccount) -> tuple[str, str, str]:
    return (account.client_email, account.private_key_id, account.key_fingerprint)


@dataclass(frozen=True, slots=True)
class FcmMessage:
    """What a notification says to one FCM device, before it becomes the v1 message body.

    `data` values that are not strings are sent as their JSON text (FCM data is string-only).
    """

    notification_id: str
    title: str | None = None
    body: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    image: str | None = None
    url: str | None = None
    collapse_key: str | None = None
    urgency: Urgency | None = None
    ttl: int = DEFAULT_TTL
    # Replaces a shown Android notification of the same tag.
    tag: str | None = None
    interactive: FcmInteractive | None = None


@dataclass(frozen=True, slots=True)
class FcmInteractive:
    """A notification with buttons, which the receiving app shows: no `notification` block,
    so Android hands the data message to the app (it builds the buttons); an alert with
    `ios_category` on iOS (the app registers that category's actions); the buttons as
    `webpush.notification.actions` for FCM's web clients."""

    ios_category: str
    web_actions: tuple[Mapping[str, str], ...]


def build_fcm_message(token: str, message: FcmMessage, *, now: float) -> dict[str, Any]:
    """The `messages:send` request body for `token` (FCM HTTP v1 `Message`)."""
    ttl = max(0, int(message.ttl))
    high = message.urgency == "high" or message.interactive is not None
    notification = {"title": message.title, "body": message.body, "image": message.image}
    data = {
        str(name): value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for name, value in message.data.items()
    }
    data["notification_id"] = message.notification_id

    android: dict[str, Any] = {"ttl": f"{ttl}s", "priority": "HIGH" if high else "NORMAL"}
    apns_headers = {
        "apns-expiration": str(int(now) + ttl),
        "apns-priority": "10" if high else "5",
    }
    webpush_headers = {"TTL": str(ttl)}
    if message.collapse_key:
        android["collapse_key"] = message.collapse_key
        if len(message.collapse_key.encode()) <= MAX_APNS_COLLAPSE_ID_BYTES:
            apns_headers["apns-collapse-id"] = message.collapse_key
    if (urgency := urgency_header(message.urgency)) is not None:
        webpush_headers["Urgency"] = urgency
    if (topic := topic_header(message.collapse_key)) is not None:
        webpush_headers["Topic"] = topic
    webpush: dict[str, Any] = {"headers": webpush_headers}
    # FCM refuses a link that is not https, which would fail the whole message.
    if message.url and urlsplit(message.url).scheme == "https":
        webpush["fcm_options"] = {"link": message.url}
    shown = {name: v for name, v in notification.items() if v is not None}
    apns: dict[str, Any] = {"headers": apns_headers}
    body: dict[str, Any] = {"token": token, "notification": shown, "data": data}
    if message.interactive is not None:
        del body["notification"]
        alert = {name: shown[name] for name in ("title", "body") if name in shown}
        category = message.interactive.ios_category
        apns["payload"] = {"aps": {"alert": alert, "category": category, "sound": "default"}}
        webpush["notification"] = {
            **alert,
            "tag": message.tag,
            "requireInteraction": True,
            "actions": [dict(action) for action in message.interactive.web_actions],
        }
    elif message.tag:
        android["notification"] = {"tag": message.tag}
    return {"message": body | {"android": android, "apns": apns, "webpush": webpush}}


class FcmSender:
    """Sends one message to one registration token through FCM HTTP v1."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: FcmAccessTokens,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        now: Callable[[], float] = clock.epoch,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._deadline = deadline
        self._now = now

    async def send(self, account: ServiceAccount, token: str, message: FcmMessage) -> Outcome:
        """Deliver `message` to `token`; never raises for FCM's answer or the network."""
        url = f"{self._api_url}/v1/projects/{quote(account.project_id, safe='')}/messages:send"
        body = build_fcm_message(token, message, now=self._now())
        try:
            access_token = await self._tokens.get(account)
            reply = await self._post(url, access_token, body)
            if reply.status_code == 401 and not _third_party_auth_error(reply):
                # Revoked or expired early: one fresh token, then FCM's answer stands.
                self._tokens.invalidate(account, access_token)
                reply = await self._post(url, await self._tokens.get(account), body)
        except AccessTokenError as error:
            return error.outcome
        except _http.TRANSPORT_ERRORS as error:
            return _http.transport_outcome(error)
        return self._classify(reply, account)

    async def _post(self, url: str, access_token: str, body: dict[str, Any]) -> _http.Reply:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        return await _http.post(
            self._client,
            url,
            headers=headers,
            json=body,
            timeout=self._timeout,
            deadline=self._deadline,
        )

    def _classify(self, reply: _http.Reply, account: ServiceAccount) -> Outcome:
        status = reply.status_code
        if 200 <= status < 300:
            return Outcome.delivered(status)
        error = _error_object(reply.body)
        code = _fcm_error_code(error) or _status_code(error)
        reason = f"fcm:{code}" if code else f"fcm:{status}"
        if code == "UNREGISTERED" or (status == 400 and _names_invalid_token(error)):
            return Outcome.invalid_token(reason, status)
        if code == "SENDER_ID_MISMATCH":
            logger.warning(
                "FCM sender id mismatch: misconfiguration",
                extra={"project_id": account.project_id},
            )
        elif status == 404:
            # FCM names a dead token UNREGISTERED; a 404 without it is a wrong API URL or
            # project, and treating it as a dead token would delete every device of the app.
            logger.warning(
                "FCM answered 404 without UNREGISTERED: check the FCM API URL and project id",
                extra={"project_id": account.project_id},
            )
        elif status in _RETRYABLE:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"), now=self._now())
            return Outcome.retry(reason, status, retry_after)
        # Any other 400 (the message itself is wrong), 403, 404, 401 after a refresh, other 4xx.
        return Outcome.failed(reason, status)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error_object(body: bytes) -> dict[str, Any]:
    """`{"error": {"code", "message", "status", "details": [...]}}` (google.rpc.Status)."""
    error = _json_object(body).get("error")
    return error if isinstance(error, dict) else {}


def _details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    if not isinstance(details, list):
        return []
    return [detail for detail in details if isinstance(detail, dict)]


def _fcm_error_code(error: dict[str, Any]) -> str | None:
    for detail in _details(error):
        code = detail.get("errorCode")
        if (
            detail.get("@type") == FCM_ERROR_TYPE
            and isinstance(code, str)
            and _ERROR_CODE.fullmatch(code)
        ):
            return code
    return None


def _status_code(error: dict[str, Any]) -> str | None:
    status = error.get("status")
    return status if isinstance(status, str) and _ERROR_CODE.fullmatch(status) else None


def _names_invalid_token(error: dict[str, Any]) -> bool:
    """True when a 400 INVALID_ARGUMENT is about the registration token, not the message."""
    message = error.get("message")
    if isinstance(message, str) and INVALID_TOKEN_MESSAGE in message.lower():
        return True
    for detail in _details(error):
        if detail.get("@type") != BAD_REQUEST_TYPE:
            continue
        violations = detail.get("fieldViolations")
        if isinstance(violations, list) and any(
            isinstance(v, dict) and v.get("field") == "message.token" for v in violations
        ):
            return True
    return False


def _third_party_auth_error(reply: _http.Reply) -> bool:
    """FCM's 401 for a bad APNs certificate or web push key: a fresh OAuth token cannot fix
    that, so it is not refreshed for."""
    return _fcm_error_code(_error_object(reply.body)) == "THIRD_PARTY_AUTH_ERROR"
