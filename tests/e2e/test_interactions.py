"""Interactions end to end on the delivery stack: the URL taken from what a device really got
(the Web Push payload the push service stand-in decrypts, the FCM message's data), reported
as a service worker and an app report it, read back in the notification's status, and one
signed receipt per event; the URL's CORS (any origin, no credentials, its preflight through
the local API Gateway) and its refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.standins.webhook import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]

ORIGIN = "https://shop.example"  # the tenant's site, whose service worker reports
ORDER = ["displayed", "clicked"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


class Tenant:
    """One app with a webhook, and helpers to read what its devices and webhook got."""

    def __init__(self, stack, receiver: WebhookReceiver) -> None:
        self.delivery, self.receiver = stack, receiver
        self.hook = receiver.new_url()
        self.app_id = stack.api.new_app(webhook_url=self.hook)
        self.secret = stack.api.config(self.app_id).json()["webhook_secret"]

    def send(self, user: str) -> str:
        sent = self.delivery.send(self.app_id, user_id=user, title="Order shipped", body="#42")
        assert sent.status_code == 202, sent.text
        return sent.json()["notification_id"]

    def status(self, notification_id: str) -> dict:
        return self.delivery.status(self.app_id, notification_id)

    def interaction_receipts(self, count: int, timeout: float = 40) -> list:
        deadline = time.monotonic() + timeout
        while True:
            calls = [c for c in self.receiver.calls(self.hook) if c.json()["type"] == "interaction"]
            if len(calls) >= count:
                # Each is a message of its own on the receipt queue: they arrive in any order.
                return sorted(calls, key=lambda c: ORDER.index(c.json()["event"]))
            assert time.monotonic() < deadline, f"{len(calls)} of {count} interaction receipts"
            time.sleep(0.2)


@pytest.fixture
def tenant(delivery, receiver) -> Tenant:  # noqa: F811
    return Tenant(delivery, receiver)


def wait_for(found, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.1)
    return result


def report(url: str, body: dict) -> httpx.Response:
    """POST as a service worker's fetch does: JSON, from the tenant's origin, no credentials."""
    return httpx.post(url, json=body, headers={"origin": ORIGIN}, timeout=60)


def test_web_push_display_and_click_are_recorded_and_each_receipted_once(tenant):
    subscription = tenant.delivery.webpush.new_subscription()
    device_id = tenant.delivery.register(tenant.app_id, "alice", "web", subscription)
    notification_id = tenant.send("alice")
    (push,) = wait_for(lambda: tenant.delivery.webpush.messages(subscription), "the push")
    url = push.json()["interactions"]

    displayed = report(url, {"event": "displayed"})
    clicked = report(url, {"event": "clicked", "action": None})
    again = report(url, {"event": "clicked", "action": "later"})
    receipts = tenant.interaction_receipts(2)
    status = tenant.delivery.wait_final(tenant.app_id, notification_id, devices=1)
    time.sleep(1)  # nothing more arrives

    assert url.startswith(f"{tenant.delivery.api.stack.api_url}/push/notifications/")
    assert url.split("/")[-3:-1] == [notification_id, "interactions"]
    assert displayed.status_code == clicked.status_code == again.status_code == 200
    assert displayed.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in displayed.headers
    shown_at = displayed.json()["displayed_at"]
    assert displayed.json() == {
        "notification_id": notification_id,
        "device_id": device_id,
        "displayed_at": shown_at,
        "clicked_at": None,
        "clicked_action": None,
    }
    assert clicked.json()["displayed_at"] == shown_at
    assert clicked.json()["clicked_action"] is None
    assert again.json() == clicked.json()
    (entry,) = status["deliveries"]
    assert (entry["status"], entry["displayed_at"], entry["clicked_at"]) == (
        "delivered",
        shown_at,
        clicked.json()["clicked_at"],
    )
    assert entry["clicked_action"] is None
    assert len(tenant.interaction_receipts(2)) == 2
    for receipt in receipts:
        Webhook(tenant.secret).verify(receipt.body, receipt.headers)
    assert [r.json() for r in receipts] == [
        {
            "type": "interaction",
            "notification_id": notification_id,
            "app_id": tenant.app_id,
            "user_id": "alice",
            "device_id": device_id,
            "platform": "web",
            "event": event,
            "action": None,
            "timestamp": at,
        }
        for event, at in (("displayed", shown_at), ("clicked", clicked.json()["clicked_at"]))
    ]
    assert len({r.headers["webhook-id"] for r in receipts}) == 2


def test_fcm_apps_report_through_the_interactions_url_data_field(tenant):
    token = tenant.delivery.fcm_token()
    device_id = tenant.delivery.register(tenant.app_id, "bob", "android", token)
    notification_id = tenant.send("bob")
    (sent,) = wait_for(
        lambda: [m for m in tenant.delivery.fcm.delivered() if m.token == token], "FCM"
    )
    url = sent.data["interactions_url"]

    displayed = httpx.post(url, json={"event": "displayed"}, timeout=60)  # an app: no Origin
    clicked = httpx.post(url, json={"event": "clicked", "action": "track"}, timeout=60)
    receipts = tenant.interaction_receipts(2)
    status = tenant.delivery.wait_final(tenant.app_id, notification_id, devices=1)

    assert sent.notification_id == notification_id
    assert (displayed.status_code, clicked.status_code) == (200, 200)
    assert clicked.json()["clicked_action"] == "track"
    assert status["deliveries"][0]["device_id"] == device_id
    assert status["deliveries"][0]["clicked_action"] == "track"
    assert [(r.json()["event"], r.json()["action"], r.json()["platform"]) for r in receipts] == [
        ("displayed", None, "android"),
        ("clicked", "track", "android"),
    ]
    for receipt in receipts:
        Webhook(tenant.secret).verify(receipt.body, receipt.headers)


def test_the_preflight_allows_any_origin_without_credentials(tenant):
    subscription = tenant.delivery.webpush.new_subscription()
    tenant.delivery.register(tenant.app_id, "carol", "web", subscription)
    tenant.send("carol")
    (push,) = wait_for(lambda: tenant.delivery.webpush.messages(subscription), "the push")

    preflight = httpx.request(
        "OPTIONS",
        push.json()["interactions"],
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
        timeout=60,
    )
    other_route = httpx.request(
        "OPTIONS",
        f"{tenant.delivery.api.stack.api_url}/push/send",
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
        timeout=60,
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"].split(",")
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.content == b""
    assert other_route.status_code == 404  # no CORS anywhere else
    assert "access-control-allow-origin" not in other_route.headers


def test_forged_and_misused_urls_are_404_and_record_nothing(tenant):
    subscriptions = [tenant.delivery.webpush.new_subscription() for _ in range(2)]
    for subscription in subscriptions:
        tenant.delivery.register(tenant.app_id, "dave", "web", subscription)
    first, second = tenant.send("dave"), tenant.send("dave")
    pushes = {
        s["endpoint"]: wait_for(
            lambda s=s: (
                len(tenant.delivery.webpush.messages(s)) == 2
                and tenant.delivery.webpush.messages(s)
            ),
            "both pushes",
        )
        for s in subscriptions
    }
    urls = {
        (p.json()["notification_id"], endpoint): p.json()["interactions"]
        for endpoint, ps in pushes.items()
        for p in ps
    }
    mine = urls[(first, subscriptions[0]["endpoint"])]
    theirs = urls[(first, subscriptions[1]["endpoint"])]
    base, token = mine.rsplit("/", 1)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_device = theirs.rsplit("/", 1)[1][:32] + token[32:]

    answers = [
        report(f"{base}/{flipped}", {"event": "displayed"}),  # forged MAC
        report(f"{base}/{other_device}", {"event": "displayed"}),  # another device's id
        report(mine.replace(first, second), {"event": "displayed"}),  # another notification
        report(f"{base}/not-a-token", {"event": "displayed"}),
    ]
    invalid = [
        report(mine, {"event": "dismissed"}),
        report(mine, {"event": "displayed", "action": "x"}),
        httpx.post(mine, content=b"displayed", headers={"content-type": "text/plain"}),
    ]
    statuses = [
        tenant.delivery.wait_final(tenant.app_id, notification_id, devices=2)
        for notification_id in (first, second)
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (404, "interaction_not_found")
    ] * 4
    assert all(a.headers["access-control-allow-origin"] == "*" for a in answers)
    assert [(i.status_code, i.json()["error"]["code"]) for i in invalid] == [
        (400, "invalid_request"),
        (400, "invalid_request"),
        (415, "unsupported_media_type"),
    ]
    for status in statuses:
        assert [d["displayed_at"] for d in status["deliveries"]] == [None, None]
    time.sleep(1)
    assert [
        c for c in tenant.receiver.calls(tenant.hook) if c.json()["type"] == "interaction"
    ] == []


def test_concurrent_reports_from_a_device_give_one_receipt_per_event(tenant):
    subscription = tenant.delivery.webpush.new_subscription()
    tenant.delivery.register(tenant.app_id, "erin", "web", subscription)
    notification_id = tenant.send("erin")
    (push,) = wait_for(lambda: tenant.delivery.webpush.messages(subscription), "the push")
    url = push.json()["interactions"]
    bodies = [{"event": "displayed"}] * 4 + [{"event": "clicked", "action": "open"}] * 4
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> httpx.Response:
        barrier.wait()
        return report(url, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(post, bodies))
    receipts = tenant.interaction_receipts(2)
    time.sleep(1)  # nothing more arrives
    final = tenant.status(notification_id)["deliveries"][0]

    assert [a.status_code for a in answers] == [200] * len(bodies)
    assert {a.json()["displayed_at"] for a in answers} == {final["displayed_at"]}
    assert sorted(r.json()["event"] for r in tenant.interaction_receipts(2)) == [
        "clicked",
        "displayed",
    ]
    assert len(receipts) == 2
    assert final["clicked_action"] == "open"
    assert json.loads(receipts[0].body)["notification_id"] == notification_id
