"""The Mozilla push stand-in speaks Firefox's WebSocket protocol and refuses pushes with the
statuses and errnos autopush's autoendpoint gives (autoendpoint/src/error.rs: VapidError and
jsonwebtoken errors 401/109, NoTTL 400/111, InvalidEncryption 400/110, payload overflow
413/104, InvalidToken 404/102, NoSubscription 410/106)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from websockets.sync.client import ClientConnection, connect

from tests.standins.mozpush import (
    ACK_DECRYPTION_ERROR,
    ACK_DELIVERED,
    SUBPROTOCOL,
    Channel,
    MozillaPushStandin,
)
from tests.standins.reference import vapid_authorization

BODY = b"\x00" * 16 + b"\x00\x00\x10\x00" + b"\x41" + b"\x04" * 65 + b"ciphertext-bytes"


@pytest.fixture
def service() -> Iterator[MozillaPushStandin]:
    with MozillaPushStandin() as standin:
        yield standin
    assert standin.errors() == ()
    assert standin.protocol_errors() == ()


@pytest.fixture
def vapid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class Browser:
    """What Firefox's PushServiceWebSocket sends, over a real WebSocket."""

    def __init__(self, service: MozillaPushStandin, uaid: str | None = None) -> None:
        self.socket: ClientConnection = connect(
            service.ws_url, subprotocols=[SUBPROTOCOL], open_timeout=5
        )
        hello: dict[str, Any] = {"messageType": "hello", "broadcasts": {}, "use_webpush": True}
        if uaid is not None:
            hello["uaid"] = uaid
        self.send(hello)
        self.hello = self.receive()

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        return json.loads(self.socket.recv(timeout=5))

    def register(self, key: ec.EllipticCurvePrivateKey | None) -> dict[str, Any]:
        message = {"channelID": str(uuid.uuid4()), "messageType": "register"}
        if key is not None:
            point = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            message["key"] = base64.urlsafe_b64encode(point).decode()  # padded, as Firefox
        self.send(message)
        return self.receive()

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def browser(service: MozillaPushStandin) -> Iterator[Browser]:
    client = Browser(service)
    yield client
    client.close()


@pytest.fixture
def channel(
    service: MozillaPushStandin, browser: Browser, vapid_key: ec.EllipticCurvePrivateKey
) -> Channel:
    browser.register(vapid_key)
    return service.wait_for_channel()


def push(
    service: MozillaPushStandin,
    channel: Channel,
    key: ec.EllipticCurvePrivateKey,
    body: bytes = BODY,
    *,
    audience: str | None = None,
    expires_at: float | None = None,
    drop: tuple[str, ...] = (),
    **headers: str,
) -> httpx.Response:
    sent = {
        "authorization": vapid_authorization(
            key, audience or service.origin, expires_at=expires_at
        ),
        "ttl": "60",
        "content-encoding": "aes128gcm",
        **{name.replace("_", "-"): value for name, value in headers.items()},
    }
    for name in drop:
        sent.pop(name)
    return httpx.post(channel.endpoint, content=body, headers=sent, timeout=5)


def assert_refused(response: httpx.Response, status: int, errno: int) -> None:
    assert response.status_code == status
    document = response.json()
    assert (document["code"], document["errno"]) == (status, errno)


def test_mozpush_hello_assigns_a_uaid_and_enables_webpush(browser: Browser) -> None:
    assert browser.hello["messageType"] == "hello"
    assert browser.hello["status"] == 200
    assert browser.hello["use_webpush"] is True
    assert len(browser.hello["uaid"]) == 32


def test_mozpush_register_with_a_key_gives_a_v2_endpoint(
    service: MozillaPushStandin, browser: Browser, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    reply = browser.register(vapid_key)

    assert reply["messageType"] == "register"
    assert reply["status"] == 200
    assert reply["pushEndpoint"].startswith(f"{service.url}/wpush/v2/")
    (channel,) = service.channels()
    assert channel.channel_id == reply["channelID"]
    assert channel.uaid == browser.hello["uaid"]


def test_mozpush_register_refuses_a_key_that_is_not_a_p256_point(browser: Browser) -> None:
    browser.send({"channelID": str(uuid.uuid4()), "messageType": "register", "key": "AAAA"})

    reply = browser.receive()

    assert reply["status"] == 400


def test_mozpush_ping_is_answered_with_an_empty_object(browser: Browser) -> None:
    browser.send({})

    assert browser.receive() == {}


def test_mozpush_accepted_push_reaches_the_socket_and_its_ack_is_recorded(
    service: MozillaPushStandin,
    browser: Browser,
    channel: Channel,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    response = push(service, channel, vapid_key)

    assert response.status_code == 201
    assert response.headers["location"].startswith(f"{service.url}/m/")
    assert response.headers["ttl"] == "60"
    notification = browser.receive()
    assert notification["messageType"] == "notification"
    assert notification["channelID"] == channel.channel_id
    assert base64.urlsafe_b64decode(notification["data"] + "==") == BODY
    assert notification["headers"] == {"encoding": "aes128gcm"}
    browser.send(
        {
            "messageType": "ack",
            "updates": [
                {"channelID": channel.channel_id, "version": notification["version"], "code": 100}
            ],
        }
    )
    ack = service.wait_for_ack(notification["version"])
    assert ack.code == ACK_DELIVERED
    (record,) = service.received()
    assert record.version == notification["version"]
    assert record.claims is not None
    assert record.claims.audience == service.origin


def test_mozpush_unacked_push_is_resent_after_reconnecting(
    service: MozillaPushStandin,
    browser: Browser,
    channel: Channel,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    uaid = browser.hello["uaid"]
    browser.close()
    deadline = time.monotonic() + 5
    while service.connected(uaid) and time.monotonic() < deadline:
        time.sleep(0.02)

    assert push(service, channel, vapid_key).status_code == 201
    again = Browser(service, uaid=uaid)
    try:
        assert again.hello["uaid"] == uaid
        assert again.receive()["channelID"] == channel.channel_id
    finally:
        again.close()


def test_mozpush_records_the_decryption_failed_ack_code(
    service: MozillaPushStandin, browser: Browser, channel: Channel
) -> None:
    version = service.send_raw(channel, b"not an aes128gcm body")
    notification = browser.receive()
    browser.send(
        {
            "messageType": "ack",
            "updates": [{"channelID": channel.channel_id, "version": version, "code": 101}],
        }
    )

    assert notification["version"] == version
    assert service.wait_for_ack(version).code == ACK_DECRYPTION_ERROR


def test_mozpush_nack_is_recorded(service: MozillaPushStandin, browser: Browser) -> None:
    browser.send({"messageType": "nack", "version": "v1", "code": 302})
    deadline = time.monotonic() + 5
    while not service.nacks() and time.monotonic() < deadline:
        time.sleep(0.02)

    assert [(n.version, n.code) for n in service.nacks()] == [("v1", 302)]


def test_mozpush_message_before_hello_closes_the_socket(service: MozillaPushStandin) -> None:
    socket = connect(service.ws_url, subprotocols=[SUBPROTOCOL], open_timeout=5)
    socket.send(json.dumps({"messageType": "register", "channelID": str(uuid.uuid4())}))

    with pytest.raises(Exception, match="1002"):
        socket.recv(timeout=5)
    assert len(service.protocol_errors()) == 1
    service._protocol_errors.clear()  # expected here; the fixture checks there are none left


def test_mozpush_refuses_a_bad_vapid_signature_with_401_errno_109(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    forged = vapid_authorization(other, service.origin, public_key=vapid_key.public_key())

    assert_refused(push(service, channel, vapid_key, authorization=forged), 401, 109)


def test_mozpush_refuses_a_wrong_aud_with_401_errno_109(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    response = push(
        service, channel, vapid_key, audience="https://updates.push.services.mozilla.com"
    )

    assert_refused(response, 401, 109)


def test_mozpush_refuses_an_exp_over_24_hours_with_401_errno_109(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    response = push(service, channel, vapid_key, expires_at=time.time() + 25 * 3600)

    assert_refused(response, 401, 109)


def test_mozpush_refuses_a_key_other_than_the_subscribed_one_with_401_errno_109(
    service: MozillaPushStandin, channel: Channel
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())

    assert_refused(push(service, channel, other), 401, 109)


def test_mozpush_refuses_a_v2_push_without_vapid_with_401_errno_109(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert_refused(push(service, channel, vapid_key, drop=("authorization",)), 401, 109)


def test_mozpush_refuses_a_missing_ttl_with_400_errno_111(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert_refused(push(service, channel, vapid_key, drop=("ttl",)), 400, 111)


def test_mozpush_refuses_a_negative_ttl_with_400_errno_114(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert_refused(push(service, channel, vapid_key, ttl="-1"), 400, 114)


def test_mozpush_refuses_a_missing_content_encoding_with_400_errno_110(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert_refused(push(service, channel, vapid_key, drop=("content-encoding",)), 400, 110)


def test_mozpush_refuses_another_content_encoding_with_400_errno_110(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    response = push(service, channel, vapid_key, content_encoding="gzip")

    assert_refused(response, 400, 110)


def test_mozpush_accepts_4096_bytes_and_refuses_4097_with_413_errno_104(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert push(service, channel, vapid_key, body=b"x" * 4096).status_code == 201
    assert_refused(push(service, channel, vapid_key, body=b"x" * 4097), 413, 104)


def test_mozpush_refuses_an_invalid_topic_with_400_errno_113(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    assert_refused(push(service, channel, vapid_key, topic="a" * 33), 400, 113)


def test_mozpush_refuses_an_unknown_endpoint_with_404_errno_102(
    service: MozillaPushStandin, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    unknown = Channel("u", "c", f"{service.url}/wpush/v2/nosuchtoken", None)

    assert_refused(push(service, unknown, vapid_key), 404, 102)


def test_mozpush_refuses_an_unregistered_channel_with_410_errno_106(
    service: MozillaPushStandin,
    browser: Browser,
    channel: Channel,
    vapid_key: ec.EllipticCurvePrivateKey,
) -> None:
    browser.send({"messageType": "unregister", "channelID": channel.channel_id, "code": 200})
    assert browser.receive()["status"] == 200

    response = push(service, channel, vapid_key)

    assert_refused(response, 410, 106)
    assert response.headers["cache-control"] == "max-age=86400"


def test_mozpush_refusals_pass_nothing_to_the_browser(
    service: MozillaPushStandin, channel: Channel, vapid_key: ec.EllipticCurvePrivateKey
) -> None:
    push(service, channel, vapid_key, drop=("ttl",))

    assert service.received() == ()
    assert [r.status for r in service.rejections()] == [400]
