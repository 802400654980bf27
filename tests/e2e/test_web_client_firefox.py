"""The web client in a real Firefox ESR: a page on 127.0.0.1 subscribes through pushgate.js
to an app of the local stack; pushgate's pushes go through a stand-in of Mozilla's push service
(Firefox's own WebSocket protocol) to Firefox, which decrypts them and whose service worker
(pushgate-sw.js) shows them, reports them and answers approval buttons.

Every push is checked to have been acked by Firefox with code 100: an ack with 101 (decryption
failed, PushServiceWebSocket.sys.mjs) fails the test, and a test proves that check fires."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browsers import firefox as firefox_browser
from tests.browsers.site import Recorder, Site
from tests.standins.mozpush import (
    ACK_DECRYPTION_ERROR,
    ACK_DELIVERED,
    Channel,
    MozillaPushStandin,
)

if not firefox_browser.available():
    pytest.skip(
        f"firefox-esr not installed ({firefox_browser.FIREFOX}): no Firefox push test",
        allow_module_level=True,
    )
pytest.importorskip("marionette_driver", reason="marionette-driver not installed")

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.xdist_group("firefox")]

FINAL = {"delivered", "failed", "invalid_token", "expired"}


@dataclass(frozen=True)
class Subscribed:
    """The browser's subscription to one app, as pushgate.js made it."""

    app_id: str
    user_id: str
    device_id: str
    created: bool
    subscription: dict[str, Any]
    channel: Channel
    page_origin: str


@pytest.fixture(scope="module")
def mozpush() -> Iterator[MozillaPushStandin]:
    with MozillaPushStandin() as service:
        yield service
    assert service.errors() == ()
    assert service.protocol_errors() == ()


@pytest.fixture(scope="module")
def site(api) -> Iterator[Site]:
    with Site(api.stack.api_url) as server:
        yield server


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


@pytest.fixture(scope="module")
def firefox(mozpush: MozillaPushStandin) -> Iterator[firefox_browser.Firefox]:
    with firefox_browser.Firefox(firefox_browser.push_prefs(mozpush.ws_url)) as browser:
        yield browser


@pytest.fixture(scope="module")
def subscribed(api, site: Site, firefox, mozpush: MozillaPushStandin) -> Subscribed:
    app_id = api.new_app()
    user_id = f"alice-{uuid.uuid4().hex[:8]}"
    firefox.marionette.navigate(site.page(app_id))
    firefox.wait_for("return document.body.dataset.ready === '1';")
    token = api.token(user_id, aud=[app_id])
    result = firefox.run("return window.wrappedJSObject.pushgateTest.subscribe(args[0]);", token)
    assert isinstance(result, str), result
    device = json.loads(result)
    return Subscribed(
        app_id,
        user_id,
        device["deviceId"],
        device["created"],
        device["subscription"],
        mozpush.wait_for_channel(),
        site.origin,
    )


def send(api, app_id: str, **body) -> str:
    response = api.request("POST", "/push/send", api.token(app_id, scope="push:send"), json=body)
    assert response.status_code == 202, response.text
    return response.json()["notification_id"]


def wait_final(api, app_id: str, notification_id: str, timeout: float = 60) -> dict[str, Any]:
    token = api.token(app_id, scope="push:send")
    deadline = time.monotonic() + timeout
    while True:
        status = api.request("GET", f"/push/notifications/{notification_id}", token).json()
        deliveries = status.get("deliveries", [])
        if deliveries and all(d["status"] in FINAL for d in deliveries):
            return status
        assert time.monotonic() < deadline, f"not final in {timeout} s: {status}"
        time.sleep(0.3)


def assert_decrypted(mozpush: MozillaPushStandin, version: str) -> None:
    """Firefox acked the message as delivered; an ack with the decryption-failed code (or
    not delivered) fails here."""
    ack = mozpush.wait_for_ack(version, timeout=30)
    if ack.code == ACK_DECRYPTION_ERROR:
        raise AssertionError(f"Firefox could not decrypt message {version} (ack code 101)")
    assert ack.code == ACK_DELIVERED, f"Firefox acked {version} with {ack.code}"


def last_push_to(mozpush: MozillaPushStandin, channel: Channel, before: int):
    deadline = time.monotonic() + 30
    while True:
        pushes = [p for p in mozpush.received() if p.channel_id == channel.channel_id]
        if len(pushes) > before:
            return pushes[-1]
        assert time.monotonic() < deadline, "no push reached the push service"
        time.sleep(0.2)


def pushes_to(mozpush: MozillaPushStandin, channel: Channel) -> int:
    return sum(1 for p in mozpush.received() if p.channel_id == channel.channel_id)


def test_firefox_subscribes_through_pushgate_js_with_the_apps_vapid_key(api, subscribed):
    key = api.request("GET", f"/push/vapid-public-key/{subscribed.app_id}").json()["publicKey"]
    devices = api.request("GET", f"/push/devices/{subscribed.app_id}", api.admin).json()

    assert subscribed.created is True
    assert subscribed.channel.key == key  # Firefox's register message carried the app's key
    assert subscribed.subscription["endpoint"] == subscribed.channel.endpoint
    assert set(subscribed.subscription["keys"]) == {"p256dh", "auth"}
    assert [(d["device_id"], d["user_id"], d["platform"]) for d in devices["devices"]] == [
        (subscribed.device_id, subscribed.user_id, "web")
    ]


def test_firefox_decrypts_a_pushgate_send_and_the_worker_shows_it(
    api, subscribed, firefox, mozpush
):
    before = pushes_to(mozpush, subscribed.channel)
    notification_id = send(
        api,
        subscribed.app_id,
        user_id=subscribed.user_id,
        title="Your order shipped",
        body="It arrives on Tuesday",
        collapse_key="order-42",
        url="https://shop.example/orders/42",
        data={"order": "42"},
    )

    status = wait_final(api, subscribed.app_id, notification_id)
    push = last_push_to(mozpush, subscribed.channel, before)
    assert_decrypted(mozpush, push.version)
    shown = firefox.wait_for_notification("order-42")

    assert [d["status"] for d in status["deliveries"]] == ["delivered"]
    assert push.encoding == "aes128gcm"
    assert push.claims is not None
    assert push.claims.audience == mozpush.origin
    assert (shown["title"], shown["body"], shown["tag"]) == (
        "Your order shipped",
        "It arrives on Tuesday",
        "order-42",
    )
    assert shown["data"]["notification_id"] == notification_id
    assert shown["data"]["data"] == {"order": "42"}
    assert shown["data"]["url"] == "https://shop.example/orders/42"
    # The worker POSTs {"event": "displayed"} to the payload's interactions URL (cross-origin:
    # the API's, answered by its own preflight), and the status shows it.
    assert shown["data"]["interactions"].startswith(f"{api.stack.api_url}/push/notifications/")
    deadline = time.monotonic() + 20
    while True:
        (delivery,) = wait_final(api, subscribed.app_id, notification_id)["deliveries"]
        if delivery.get("displayed_at") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert delivery["displayed_at"] is not None
    assert delivery["clicked_at"] is None


def test_firefox_worker_posts_displayed_to_the_payloads_interactions_url(
    aws_env, subscribed, firefox, mozpush, recorder: Recorder
):
    """pushgate's own sending path (the deliver function's WebPushSender, the app's VAPID key
    opened from the stack, RFC 8291 encryption) with the payload carrying `interactions`."""
    from pushgate import sealing, settings
    from pushgate.delivery.app_keys import app_keys, clear
    from pushgate.notifications.models import MessageContent, encode_payload
    from pushgate.providers.webpush import WebPushSender

    settings.get_settings.cache_clear()
    sealing.get_cipher.cache_clear()
    clear()
    keys = app_keys(subscribed.app_id)
    assert keys is not None
    assert keys.vapid_key is not None
    path = f"/push/notifications/ntf_test/interactions/{uuid.uuid4().hex}"
    interactions = recorder.url(path)
    message = MessageContent(title="Injected", body="interactions", collapse_key="injected")
    document = message.webpush_document("ntf_" + "0" * 26) | {"interactions": interactions}
    before = pushes_to(mozpush, subscribed.channel)

    async def deliver():
        async with httpx.AsyncClient() as client:
            return await WebPushSender(client).send(
                endpoint=subscribed.subscription["endpoint"],
                p256dh=subscribed.subscription["keys"]["p256dh"],
                auth=subscribed.subscription["keys"]["auth"],
                payload=encode_payload(document),
                ttl=60,
                urgency="normal",
                topic=None,
                vapid_key=keys.vapid_key,
                vapid_subject=keys.vapid_subject,
            )

    outcome = asyncio.run(deliver())
    push = last_push_to(mozpush, subscribed.channel, before)
    assert_decrypted(mozpush, push.version)
    shown = firefox.wait_for_notification("injected")
    recorder.wait_for(1)
    (report,) = [r for r in recorder.reports() if r.path == path]

    assert (outcome.status, outcome.http_status) == ("delivered", 201)
    assert shown["data"]["interactions"] == interactions
    assert report.body == {"event": "displayed"}
    assert report.content_type == "application/json"
    assert report.origin == subscribed.page_origin  # the worker's, cross-origin to the recorder


def test_firefox_approve_button_posts_the_decision_url(api, subscribed, firefox):
    token = api.token(subscribed.app_id, scope="push:send")
    asked = api.request(
        "POST",
        "/push/approvals",
        token,
        json={"user_id": subscribed.user_id, "title": "Sign in from Firefox?", "body": "Berlin"},
    )
    assert asked.status_code == 201, asked.text
    approval_id = asked.json()["approval_id"]
    shown = firefox.wait_for_notification(approval_id)

    firefox.click_notification("Sign in from Firefox?", "approve")
    deadline = time.monotonic() + 20
    while True:
        status = api.request("GET", f"/push/approvals/{approval_id}", token).json()
        if status["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.3)

    assert shown["actions"] == [
        {"action": "approve", "title": "Approve"},
        {"action": "deny", "title": "Deny"},
    ]
    assert shown["requireInteraction"] is True
    assert (status["status"], status["approved"], status["action"]) == ("approved", True, "approve")
    assert status["device_id"] == subscribed.device_id


def test_firefox_acks_a_corrupted_message_with_decryption_failed_and_the_check_fails(
    subscribed, mozpush
):
    from pushgate.crypto import SubscriptionKeys, encrypt

    keys = subscribed.subscription["keys"]
    body = bytearray(encrypt(b'{"title":"never shown"}', SubscriptionKeys.parse(**keys)))
    body[-1] ^= 0x01  # the GCM tag no longer authenticates

    version = mozpush.send_raw(subscribed.channel, bytes(body))

    assert mozpush.wait_for_ack(version, timeout=30).code == ACK_DECRYPTION_ERROR
    with pytest.raises(AssertionError, match="could not decrypt"):
        assert_decrypted(mozpush, version)


def test_firefox_clicking_the_body_opens_the_payloads_url(api, subscribed, firefox, mozpush):
    target = f"{subscribed.page_origin}/?opened={uuid.uuid4().hex[:8]}"
    tabs = len(firefox.marionette.window_handles)
    notification_id = send(
        api,
        subscribed.app_id,
        user_id=subscribed.user_id,
        title="Open me",
        body="on a click",
        collapse_key="open-me",
        url=target,
    )
    wait_final(api, subscribed.app_id, notification_id)
    firefox.wait_for_notification("open-me")

    firefox.click_notification("Open me")
    deadline = time.monotonic() + 20
    while len(firefox.marionette.window_handles) == tabs and time.monotonic() < deadline:
        time.sleep(0.2)
    opened = firefox.marionette.window_handles[-1]
    firefox.marionette.switch_to_window(opened)
    try:
        # A new tab is about:blank until its navigation commits (seen under load).
        url = firefox.marionette.get_url()
        while url == "about:blank" and time.monotonic() < deadline:
            time.sleep(0.2)
            url = firefox.marionette.get_url()
    finally:
        firefox.marionette.close()
        firefox.marionette.switch_to_window(firefox.marionette.window_handles[0])

    assert len(firefox.marionette.window_handles) == tabs
    assert url == target
    assert [n for n in firefox.notifications() if n["tag"] == "open-me"] == []  # closed


@pytest.mark.parametrize(
    ("body", "case"),
    [(b"", "payload-less"), (b"\xff not JSON", "unparsable")],
)
def test_firefox_worker_shows_a_generic_notification_for_an_unreadable_push(
    subscribed, firefox, mozpush, body, case
):
    from pushgate.crypto import SubscriptionKeys, encrypt

    keys = SubscriptionKeys.parse(**subscribed.subscription["keys"])
    before = sum(1 for n in firefox.notifications() if n["title"] == "New notification")

    version = mozpush.send_raw(subscribed.channel, encrypt(body, keys) if body else b"")
    assert_decrypted(mozpush, version)
    deadline = time.monotonic() + 20
    while True:
        generic = [n for n in firefox.notifications() if n["title"] == "New notification"]
        if len(generic) > before or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert len(generic) == before + 1, case
    assert (generic[-1]["body"], generic[-1]["data"]) == ("", {})


def test_firefox_unsubscribes_and_removes_its_device_from_another_origin(
    api, site: Site, subscribed, firefox
):
    """Last in the module: it ends the subscription the others share. The DELETE carries a
    bearer token from the page's origin to the API's, so it goes through its preflight."""
    firefox.marionette.navigate(site.page(subscribed.app_id))
    firefox.wait_for("return document.body.dataset.ready === '1';")
    token = api.token(subscribed.user_id, aud=[subscribed.app_id])

    result = firefox.run("return window.wrappedJSObject.pushgateTest.unsubscribe(args[0]);", token)
    devices = api.request("GET", f"/push/devices/{subscribed.app_id}", api.admin).json()
    state = firefox.run(
        "return navigator.serviceWorker.ready"
        ".then(r => r.pushManager.getSubscription()).then(s => s === null);"
    )

    assert site.origin != api.stack.api_url
    assert result == "true"
    assert devices["devices"] == []
    assert state is True
