"""Delivery receipts end to end: signed, retried, SSRF-checked at send time, rotatable."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from pushgate.receipts.signing import secret_key
from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.standins import fail_first
from tests.standins.webhook import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def wait_calls(receiver, url, count, timeout=60.0):
    deadline = time.monotonic() + timeout
    while len(receiver.calls(url)) < count:
        assert time.monotonic() < deadline, f"{len(receiver.calls(url))} of {count} receipts"
        time.sleep(0.2)
    return receiver.calls(url)


def verify_simple(secret: str, call) -> bool:
    expected = hmac.new(secret_key(secret), call.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(call.headers["x-pushgate-signature"], f"sha256={expected}")


def test_receipts_every_final_outcome_arrives_once_and_verifies(delivery, receiver):  # noqa: F811
    hook = receiver.new_url()
    app_id = delivery.api.new_app(webhook_url=hook)
    secret = delivery.api.config(app_id).json()["webhook_secret"]
    ok = delivery.webpush.new_subscription()
    gone = delivery.webpush.new_subscription(behaviour=410)
    topic = "r" + uuid.uuid4().hex[:8]
    devices = {
        delivery.register(app_id, "rita", "web", ok): "delivered",
        delivery.register(app_id, "rita", "web", gone): "invalid_token",
        delivery.register(
            app_id, "rita", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"}
        ): "delivered",
    }
    nid = delivery.send(app_id, user_id="rita", title="t", body="b").json()["notification_id"]
    calls = wait_calls(receiver, hook, 3)
    time.sleep(1.5)  # nothing more arrives
    calls = receiver.calls(hook)

    assert len(calls) == 3
    assert {c.json()["device_id"]: c.json()["status"] for c in calls} == devices
    assert len({c.headers["webhook-id"] for c in calls}) == 3
    for call in calls:
        body = call.json()
        assert set(body) == {
            "type",
            "notification_id",
            "user_id",
            "device_id",
            "app_id",
            "platform",
            "status",
            "error",
            "timestamp",
        }
        assert body["type"] == "delivery"
        assert (body["notification_id"], body["user_id"], body["app_id"]) == (nid, "rita", app_id)
        Webhook(secret).verify(call.body, call.headers)  # raises if it does not verify
        assert verify_simple(secret, call)
        flipped = bytearray(call.body)
        flipped[len(flipped) // 2] ^= 0x01
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(bytes(flipped), call.headers)
        assert not hmac.compare_digest(
            call.headers["x-pushgate-signature"],
            "sha256=" + hmac.new(secret_key(secret), bytes(flipped), hashlib.sha256).hexdigest(),
        )


def test_receipts_retry_with_the_same_id_and_growing_gaps(delivery, receiver):  # noqa: F811
    hook = receiver.new_url(fail_first(2, 503))
    app_id = delivery.api.new_app(webhook_url=hook)
    topic = "g" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "gail", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    delivery.send(app_id, user_id="gail", title="t", body="b")
    calls = wait_calls(receiver, hook, 3)
    assert [c.status for c in calls] == [503, 503, 200]
    assert len({c.headers["webhook-id"] for c in calls}) == 1
    first_gap = calls[1].received_at - calls[0].received_at
    second_gap = calls[2].received_at - calls[1].received_at
    # Delays of base 1 s doubling, jittered ±20% and rounded to whole seconds (SQS delays):
    # 1 s then 2 s. The queue's polling adds up to a second or two to either, so their order
    # is not a test; the second one's floor, twice the first's, is.
    assert first_gap >= 0.9
    assert second_gap >= 1.9


def test_receipts_honour_retry_after(delivery, receiver):  # noqa: F811
    hook = receiver.new_url(fail_first(1, 429, retry_after=3))
    app_id = delivery.api.new_app(webhook_url=hook)
    topic = "ra" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "rae", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    delivery.send(app_id, user_id="rae", title="t", body="b")
    calls = wait_calls(receiver, hook, 2)
    assert calls[1].received_at - calls[0].received_at >= 3.0


def test_receipts_410_disables_the_webhook(delivery, receiver):  # noqa: F811
    hook = receiver.new_url(410)
    app_id = delivery.api.new_app(webhook_url=hook)
    topic = "d" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "dora", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    delivery.send(app_id, user_id="dora", title="t", body="b")
    wait_calls(receiver, hook, 1)
    deadline = time.monotonic() + 20
    while delivery.api.config(app_id).json()["webhook_status"] != "disabled":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    config = delivery.api.config(app_id).json()
    assert "410" in config["webhook_disabled_reason"]
    delivery.send(app_id, user_id="dora", title="again", body="b")
    deadline = time.monotonic() + 60
    while len(delivery.ntfy.messages(topic)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)
    assert len(receiver.calls(hook)) == 1


def test_receipts_after_rotation_verify_with_old_and_new_secret(delivery, receiver):  # noqa: F811
    hook = receiver.new_url()
    app_id = delivery.api.new_app(webhook_url=hook)
    old = delivery.api.config(app_id).json()["webhook_secret"]
    rotated = delivery.api.request(
        "POST",
        f"/push/config/{app_id}/webhook-secret/rotate",
        delivery.api.token(app_id, scope="push:config"),
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new != old
    assert delivery.api.config(app_id).json()["webhook_secret"] == new
    topic = "rot" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "otto", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    delivery.send(app_id, user_id="otto", title="t", body="b")
    call = wait_calls(receiver, hook, 1)[0]
    Webhook(old).verify(call.body, call.headers)
    Webhook(new).verify(call.body, call.headers)
    assert verify_simple(new, call)
    assert len(call.headers["webhook-signature"].split(" ")) == 2


def test_receipts_rotation_refused_for_other_apps(delivery):  # noqa: F811
    app_id = delivery.api.new_app()
    other = delivery.api.token("someone-else", scope="push:config")
    response = delivery.api.request("POST", f"/push/config/{app_id}/webhook-secret/rotate", other)
    assert response.status_code == 403
