"""WebPushSender: the RFC 8030/8291/8292 request a push service receives, and how its answers
are classified."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from pushgate.crypto import VapidHeaderCache, VapidKey
from pushgate.providers import Outcome, WebPushSender
from tests.standins._webpush_crypto import decrypt, verify_vapid_authorization
from tests.unit.providers.support import Clock, run
from tests.user_agent import UserAgent

ENDPOINT = "https://push.test:8443/wpush/v2/gAAAAABsecret-subscription-id"
AUDIENCE = "https://push.test:8443"
SUBJECT = "mailto:ops@pushgate.dev"
Send = Callable[..., Outcome]
PAYLOAD = json.dumps({"notification_id": "ntf_1", "title": "Hi", "body": "There"}).encode()


class PushService:
    """Records requests and answers each with `reply`, or fails them with `error`."""

    def __init__(
        self,
        reply: httpx.Response | None = None,
        error: type[httpx.TransportError] | None = None,
    ) -> None:
        self.reply = reply or httpx.Response(201)
        self.error = error
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error("no answer", request=request)
        return self.reply


def _send(
    service: PushService,
    user_agent: UserAgent | None,
    vapid_key: VapidKey,
    vapid_headers: VapidHeaderCache,
    clock: Clock,
    **overrides: object,
) -> Outcome:
    fields: dict[str, object] = {
        "endpoint": ENDPOINT,
        "p256dh": user_agent.p256dh if user_agent else None,
        "auth": user_agent.auth if user_agent else None,
        "payload": PAYLOAD,
        "ttl": 3600,
        "urgency": "normal",
        "topic": "chat-42",
        "vapid_key": vapid_key,
        "vapid_subject": SUBJECT,
        **overrides,
    }

    async def use(client: httpx.AsyncClient) -> Outcome:
        sender = WebPushSender(client, vapid_headers=vapid_headers, now=clock)
        return await sender.send(**fields)  # type: ignore[arg-type]

    return run(service, use)


@pytest.fixture
def send(user_agent: UserAgent, vapid_key: VapidKey, vapid_headers: VapidHeaderCache, clock: Clock):
    def go(service: PushService, **overrides: object) -> Outcome:
        return _send(service, user_agent, vapid_key, vapid_headers, clock, **overrides)

    return go


def test_webpush_sender_posts_to_the_endpoint_with_rfc8030_headers(send: Send) -> None:
    service = PushService()

    send(service)

    request = service.requests[0]
    assert (request.method, str(request.url)) == ("POST", ENDPOINT)
    assert request.headers["TTL"] == "3600"
    assert request.headers["Urgency"] == "normal"
    assert request.headers["Topic"] == "Gt4cE03HtdpoUGEJ6U6jz632ggW6J1v8"  # topic_header("chat-42")
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["Content-Type"] == "application/octet-stream"


def test_webpush_sender_body_decrypts_with_the_subscription_keys(
    send: Send, user_agent: UserAgent
) -> None:
    service = PushService()

    send(service)

    assert decrypt(service.requests[0].content, user_agent.private_key, user_agent.auth) == PAYLOAD


def test_webpush_sender_vapid_header_verifies_for_the_endpoint_origin(
    send: Send, vapid_key: VapidKey, clock: Clock
) -> None:
    service = PushService()

    send(service)

    claims = verify_vapid_authorization(
        service.requests[0].headers["Authorization"], audience=AUDIENCE, now=clock.value
    )
    assert (claims.public_key, claims.subject) == (vapid_key.public_key, SUBJECT)
    assert claims.expires_at <= clock.value + 12 * 3600


def test_webpush_sender_reuses_the_signed_vapid_header(send: Send) -> None:
    service = PushService()

    send(service)
    send(service)

    first, second = (r.headers["Authorization"] for r in service.requests)
    assert first == second


def test_webpush_sender_accepts_base64url_subscription_keys(
    user_agent: UserAgent, send: Send
) -> None:
    service = PushService()

    send(
        service,
        p256dh=base64.urlsafe_b64encode(user_agent.p256dh).decode().rstrip("="),
        auth=base64.urlsafe_b64encode(user_agent.auth).decode().rstrip("="),
    )

    assert decrypt(service.requests[0].content, user_agent.private_key, user_agent.auth) == PAYLOAD


def test_webpush_sender_sends_a_keyless_subscription_an_empty_body(
    vapid_key: VapidKey, vapid_headers: VapidHeaderCache, clock: Clock
) -> None:
    service = PushService()

    _send(service, None, vapid_key, vapid_headers, clock)

    request = service.requests[0]
    assert request.content == b""
    assert "Content-Encoding" not in request.headers
    assert request.headers["Authorization"].startswith("vapid t=")


@pytest.mark.parametrize("key", ["a", "abcde", "t" * 32, "chat room #42", "t" * 33])
def test_webpush_sender_sends_a_32_character_base64url_topic_for_any_key(
    send: Send, key: str
) -> None:
    service = PushService()

    send(service, topic=key)

    topic = service.requests[0].headers["Topic"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", topic)
    assert len(base64.urlsafe_b64decode(topic)) == 24  # Apple decodes it: it must decode


def test_webpush_sender_gives_one_key_one_topic_and_two_keys_two(send: Send) -> None:
    service = PushService()

    for key in ("chat-1", "chat-1", "chat-2"):
        send(service, topic=key)

    first, again, other = (request.headers["Topic"] for request in service.requests)
    assert first == again != other


def test_webpush_sender_omits_the_topic_without_a_collapse_key(send: Send) -> None:
    service = PushService()

    send(service, topic=None)

    assert "Topic" not in service.requests[0].headers


def test_webpush_sender_omits_urgency_when_none_is_given(send: Send) -> None:
    service = PushService()

    send(service, urgency=None)

    assert "Urgency" not in service.requests[0].headers


@pytest.mark.parametrize("status", [200, 201, 202])
def test_webpush_sender_reports_2xx_as_delivered(send: Send, status: int) -> None:
    assert send(PushService(httpx.Response(status))) == Outcome("delivered", None, None, status)


@pytest.mark.parametrize("status", [404, 410])
def test_webpush_sender_reports_gone_as_invalid_token(send: Send, status: int) -> None:
    outcome = send(PushService(httpx.Response(status)))

    assert outcome == Outcome("invalid_token", f"webpush:{status}", None, status)


def test_webpush_sender_reports_413_as_failed(send: Send) -> None:
    assert send(PushService(httpx.Response(413))) == Outcome("failed", "webpush:413", None, 413)


def test_webpush_sender_reports_429_as_retry_after_seconds(send: Send) -> None:
    outcome = send(PushService(httpx.Response(429, headers={"Retry-After": "12"})))

    assert outcome == Outcome("retry", "webpush:429", 12.0, 429)


def test_webpush_sender_reports_503_as_retry_after_an_http_date(send: Send, clock: Clock) -> None:
    date = formatdate(clock.value + 60, usegmt=True)

    outcome = send(PushService(httpx.Response(503, headers={"Retry-After": date})))

    assert (outcome.status, outcome.retry_after) == ("retry", 60.0)


def test_webpush_sender_reports_500_as_retry(send: Send) -> None:
    assert send(PushService(httpx.Response(500))) == Outcome("retry", "webpush:500", None, 500)


@pytest.mark.parametrize("status", [400, 405, 409])
def test_webpush_sender_reports_another_4xx_as_failed(send: Send, status: int) -> None:
    outcome = send(PushService(httpx.Response(status)))

    assert outcome == Outcome("failed", f"webpush:{status}", None, status)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, b'{"reason":"BadJwtToken"}', "webpush:vapid_rejected:BadJwtToken"),
        (401, b'{"reason": "ExpiredJwtToken"}', "webpush:vapid_rejected:ExpiredJwtToken"),
        (403, b"", "webpush:vapid_rejected"),
        (401, b'{"code": 401, "errno": 109, "error": "Unauthorized"}', "webpush:vapid_rejected"),
        (403, b"the key in the authorization header does not match", "webpush:vapid_rejected"),
        (403, b'{"reason": "Bad token: see https://x.test/?t=secret"}', "webpush:vapid_rejected"),
        (403, b'{"reason": "' + b"A" * 65 + b'"}', "webpush:vapid_rejected"),
        (403, b'{"reason": ["BadJwtToken"]}', "webpush:vapid_rejected"),
        (403, b'["BadJwtToken"]', "webpush:vapid_rejected"),
    ],
    ids=[
        "apple-bad-jwt",
        "apple-401",
        "empty",
        "mozilla-errno",
        "text",
        "reason-not-a-word",
        "reason-too-long",
        "reason-not-a-string",
        "not-an-object",
    ],
)
def test_webpush_sender_reports_a_refused_vapid_token_as_a_failed_misconfiguration(
    send: Send, status: int, body: bytes, error: str
) -> None:
    outcome = send(PushService(httpx.Response(status, content=body)))

    assert outcome == Outcome("failed", error, None, status)


def test_webpush_sender_reports_a_missing_vapid_subject_as_failed(send: Send) -> None:
    service = PushService()

    outcome = send(service, vapid_subject=None)

    assert outcome == Outcome("failed", "webpush:no_vapid_subject", None, None)
    assert service.requests == []


def test_webpush_sender_does_not_follow_a_redirect(send: Send) -> None:
    service = PushService(httpx.Response(307, headers={"Location": "http://127.0.0.1/admin"}))

    outcome = send(service)

    assert outcome.status == "failed"
    assert len(service.requests) == 1


def test_webpush_sender_reports_a_connection_error_as_retry(send: Send) -> None:
    outcome = send(PushService(error=httpx.ConnectError))

    assert outcome == Outcome("retry", "connection_error", None, None)


def test_webpush_sender_reports_a_reset_connection_as_retry(send: Send) -> None:
    outcome = send(PushService(error=httpx.ReadError))

    assert outcome == Outcome("retry", "connection_error", None, None)


def test_webpush_sender_reports_a_read_timeout_as_retry(send: Send) -> None:
    assert send(PushService(error=httpx.ReadTimeout)) == Outcome("retry", "timeout", None, None)


def test_webpush_sender_reports_unusable_subscription_keys_as_invalid_token(send: Send) -> None:
    service = PushService()

    outcome = send(service, p256dh=b"\x04" + b"\x00" * 64)

    assert outcome == Outcome("invalid_token", "webpush:invalid_subscription", None, None)
    assert service.requests == []


def test_webpush_sender_reports_an_endpoint_that_is_not_a_url_as_invalid_token(send: Send) -> None:
    outcome = send(PushService(), endpoint="mailto:someone@example.test")

    assert (outcome.status, outcome.error) == ("invalid_token", "webpush:invalid_subscription")


def test_webpush_sender_reports_a_payload_over_3993_bytes_as_failed(send: Send) -> None:
    service = PushService()

    outcome = send(service, payload=b"x" * 3994)

    assert outcome == Outcome("failed", "webpush:payload_too_large", None, None)
    assert service.requests == []


def test_webpush_sender_reports_an_unusable_vapid_subject_as_failed(send: Send) -> None:
    outcome = send(PushService(), vapid_subject="ops at example")

    assert (outcome.status, outcome.error) == ("failed", "webpush:invalid_vapid_subject")


def test_webpush_sender_shares_one_vapid_cache_by_default(
    user_agent: UserAgent, vapid_key: VapidKey
) -> None:
    service = PushService()

    async def use(client: httpx.AsyncClient) -> None:
        for sender in (WebPushSender(client), WebPushSender(client)):
            await sender.send(
                endpoint=ENDPOINT,
                p256dh=user_agent.p256dh,
                auth=user_agent.auth,
                payload=PAYLOAD,
                ttl=60,
                urgency=None,
                topic=None,
                vapid_key=vapid_key,
                vapid_subject=SUBJECT,
            )

    run(service, use)

    first, second = (r.headers["Authorization"] for r in service.requests)
    assert first == second
