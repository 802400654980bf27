"""The Web Push stand-in checks VAPID like a push service and decrypts like a browser."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.standins import WebPushStandin, fail_first
from tests.standins.reference import b64url, b64url_decode, encrypt_for, vapid_authorization

PAYLOAD = {"notification_id": "ntf_1", "title": "Hello", "body": "World"}


@pytest.fixture
def vapid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def subscription(webpush: WebPushStandin) -> dict[str, Any]:
    return webpush.new_subscription()


def push(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
    *,
    payload: bytes | None = None,
    body: bytes | None = None,
    authorization: str | None = None,
    **headers: str,
) -> httpx.Response:
    """POST a push as an application server would; `headers` override the defaults."""
    if body is None:
        body = encrypt_for(subscription, payload) if payload is not None else b""
    sent = {
        "Authorization": authorization or vapid_authorization(key, webpush.origin),
        "TTL": "3600",
        **({"Content-Encoding": "aes128gcm"} if body else {}),
        **{name.replace("_", "-"): value for name, value in headers.items()},
    }
    return http.post(subscription["endpoint"], content=body, headers=sent)


def test_webpush_new_subscription_holds_a_browsers_keys(webpush: WebPushStandin) -> None:
    subscription = webpush.new_subscription()

    assert subscription["endpoint"].startswith(f"{webpush.url}/push/")
    point = b64url_decode(subscription["keys"]["p256dh"])
    assert len(point) == 65
    assert point[0] == 0x04
    assert len(b64url_decode(subscription["keys"]["auth"])) == 16


def test_webpush_keyless_subscription_has_no_keys(webpush: WebPushStandin) -> None:
    assert "keys" not in webpush.new_subscription(keyless=True)


def test_webpush_delivers_and_decrypts_an_encrypted_push(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    payload = json.dumps(PAYLOAD).encode()

    reply = push(
        http, webpush, subscription, vapid_key, payload=payload, Urgency="high", Topic="chat-1"
    )

    assert reply.status_code == 201
    assert reply.headers["location"].startswith(f"{webpush.url}/message/")
    (record,) = webpush.messages(subscription)
    assert record.payload == payload
    assert record.json() == PAYLOAD
    assert (record.ttl, record.urgency, record.topic) == (3600, "high", "chat-1")
    assert record.claims.audience == webpush.origin
    assert record.claims.subject == "mailto:ops@pushgate.dev"
    assert webpush.deliveries() == {("ntf_1", record.subscription_id): 1}


def test_webpush_delivers_a_push_without_payload(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    reply = push(http, webpush, subscription, vapid_key)

    assert reply.status_code == 201
    assert webpush.messages(subscription)[0].payload == b""


def test_webpush_refuses_a_push_without_authorization(
    http: httpx.Client, webpush: WebPushStandin, subscription: dict[str, Any]
) -> None:
    reply = http.post(subscription["endpoint"], headers={"TTL": "60"})

    assert reply.status_code == 401
    assert webpush.delivered() == ()


def test_webpush_refuses_a_jwt_signed_by_another_key_than_k(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    authorization = vapid_authorization(impostor, webpush.origin, public_key=vapid_key.public_key())

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "does not verify" in webpush.rejections()[0].reason


def test_webpush_refuses_a_jwt_for_another_audience(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    authorization = vapid_authorization(vapid_key, "https://fcm.googleapis.com")

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "aud" in webpush.rejections()[0].reason


def test_webpush_refuses_an_audience_with_a_path(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    authorization = vapid_authorization(vapid_key, subscription["endpoint"])

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "aud" in webpush.rejections()[0].reason


def test_webpush_refuses_a_jwt_expiring_more_than_24_hours_ahead(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    expires_at = time.time() + 24 * 3600 + 120
    authorization = vapid_authorization(vapid_key, webpush.origin, expires_at=expires_at)

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "24 hours" in webpush.rejections()[0].reason


def test_webpush_refuses_an_expired_jwt(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    authorization = vapid_authorization(vapid_key, webpush.origin, expires_at=time.time() - 1)

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "exp" in webpush.rejections()[0].reason


def test_webpush_refuses_a_cached_jwt_once_it_expires(
    http: httpx.Client, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    now = [time.time()]
    with WebPushStandin(now=lambda: now[0]) as webpush:
        subscription = webpush.new_subscription()
        authorization = vapid_authorization(vapid_key, webpush.origin, expires_at=now[0] + 60)
        first = push(http, webpush, subscription, vapid_key, authorization=authorization)
        now[0] += 61
        second = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert (first.status_code, second.status_code) == (201, 401)


@pytest.mark.parametrize("subject", [None, "ops@example.com", "http://example.com"])
def test_webpush_refuses_a_subject_that_is_not_mailto_or_https(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
    subject: str | None,
) -> None:
    authorization = vapid_authorization(vapid_key, webpush.origin, subject=subject)

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert reply.status_code == 401
    assert "sub" in webpush.rejections()[0].reason


@pytest.mark.parametrize(
    "subject",
    [
        "mailto:x@localhost",
        "mailto:push-admin@pushgate.invalid",
        "mailto:ops@example.com",
        "https://localhost:8080",
        "https://shop.test/contact",
    ],
)
def test_webpush_refuses_a_placeholder_subject_as_apple_does(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
    subject: str,
) -> None:
    authorization = vapid_authorization(vapid_key, webpush.origin, subject=subject)

    reply = push(http, webpush, subscription, vapid_key, authorization=authorization)

    assert (reply.status_code, reply.json()) == (403, {"reason": "BadJwtToken"})
    assert webpush.delivered() == ()


def test_webpush_refuses_a_key_other_than_the_subscriptions_application_server_key(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    subscribed_with = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    subscription = webpush.new_subscription(application_server_key=b64url(subscribed_with))

    reply = push(http, webpush, subscription, vapid_key)

    assert reply.status_code == 403


def test_webpush_accepts_the_subscriptions_application_server_key(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    point = vapid_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    subscription = webpush.new_subscription(application_server_key=b64url(point))

    assert push(http, webpush, subscription, vapid_key).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [{"TTL": ""}, {"TTL": "-1"}, {"TTL": "soon"}],
    ids=["empty", "negative", "word"],
)
def test_webpush_refuses_a_ttl_that_is_not_a_non_negative_integer(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
    headers: dict[str, str],
) -> None:
    reply = push(http, webpush, subscription, vapid_key, **headers)

    assert reply.status_code == 400


def test_webpush_refuses_a_push_without_ttl(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    reply = http.post(
        subscription["endpoint"],
        headers={"Authorization": vapid_authorization(vapid_key, webpush.origin)},
    )

    assert reply.status_code == 400


def test_webpush_refuses_an_unknown_urgency(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    reply = push(http, webpush, subscription, vapid_key, Urgency="urgent")

    assert reply.status_code == 400


@pytest.mark.parametrize("topic", ["a" * 33, "chat:1", ""], ids=["long", "colon", "empty"])
def test_webpush_refuses_a_topic_outside_32_url_safe_base64_characters(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
    topic: str,
) -> None:
    reply = push(http, webpush, subscription, vapid_key, Topic=topic)

    assert reply.status_code == 400


@pytest.mark.parametrize("topic", ["a", "abcde", "t" * 29])
def test_webpush_refuses_a_topic_apple_cannot_decode_as_base64(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
    topic: str,
) -> None:
    reply = push(http, webpush, subscription, vapid_key, Topic=topic)

    assert (reply.status_code, reply.json()) == (400, {"reason": "BadWebPushTopic"})


def test_webpush_refuses_the_legacy_aesgcm_encoding(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    body = encrypt_for(subscription, b"{}")

    reply = push(http, webpush, subscription, vapid_key, body=body, Content_Encoding="aesgcm")

    assert reply.status_code == 400


def test_webpush_refuses_a_body_over_4096_bytes(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    reply = push(http, webpush, subscription, vapid_key, payload=b"x" * 4096)

    assert reply.status_code == 413


def test_webpush_refuses_a_body_encrypted_for_other_keys(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    body = encrypt_for(webpush.new_subscription(), b"{}")

    reply = push(http, webpush, subscription, vapid_key, body=body)

    assert reply.status_code == 400
    assert "decrypt" in webpush.rejections()[0].reason


def test_webpush_refuses_a_payload_for_a_keyless_subscription(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    keyless = webpush.new_subscription(keyless=True)

    reply = push(http, webpush, keyless, vapid_key, body=b"\x00" * 100)

    assert reply.status_code == 400


def test_webpush_delivers_an_empty_push_to_a_keyless_subscription(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    keyless = webpush.new_subscription(keyless=True)

    assert push(http, webpush, keyless, vapid_key).status_code == 201


def test_webpush_answers_404_for_an_unknown_subscription(
    http: httpx.Client,
    webpush: WebPushStandin,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    unknown = {"endpoint": f"{webpush.url}/push/nobody"}

    assert push(http, webpush, unknown, vapid_key).status_code == 404


def test_webpush_answers_410_once_unsubscribed(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    webpush.unsubscribe(subscription)

    assert push(http, webpush, subscription, vapid_key).status_code == 410


# -- scripted outcomes ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404, 410, 413, 500])
def test_webpush_script_answers_the_scripted_status(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey, status: int
) -> None:
    subscription = webpush.new_subscription(behaviour=status)

    reply = push(http, webpush, subscription, vapid_key, payload=b"{}")

    assert reply.status_code == status
    assert webpush.delivered() == ()
    assert webpush.attempts(subscription) == 1


def test_webpush_script_429_says_when_to_retry(
    http: httpx.Client,
    webpush: WebPushStandin,
    subscription: dict[str, Any],
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    webpush.script(subscription, fail_first(1, 429, retry_after=7))

    reply = push(http, webpush, subscription, vapid_key)

    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "7"


def test_webpush_script_fails_the_first_attempts_then_delivers(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    subscription = webpush.new_subscription(behaviour=fail_first(2, 503))

    statuses = [push(http, webpush, subscription, vapid_key).status_code for _ in range(3)]

    assert statuses == [503, 503, 201]
    assert len(webpush.messages(subscription)) == 1


def test_webpush_script_reset_closes_the_connection_without_an_answer(
    http: httpx.Client, webpush: WebPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    subscription = webpush.new_subscription(behaviour="reset")

    with pytest.raises(httpx.TransportError):
        push(http, webpush, subscription, vapid_key)
    assert webpush.received()[0].status == 0


def test_webpush_without_decryption_records_the_ciphertext(
    http: httpx.Client, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    with WebPushStandin(decrypt_payloads=False) as webpush:
        subscription = webpush.new_subscription()
        body = encrypt_for(subscription, b"{}")
        reply = push(http, webpush, subscription, vapid_key, body=body)

    assert reply.status_code == 201
    assert webpush.delivered()[0].payload == body
