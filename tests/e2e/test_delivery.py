"""Sending and delivery end to end: local stack → SQS → deliver → stand-ins on 127.0.0.1."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local.stack import LOCAL_VAPID_SUBJECT
from pushgate.providers._rfc8030 import topic_header
from tests.e2e.conftest import Delivery
from tests.standins import always, fail_first

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


@pytest.fixture(scope="session")
def delivery(delivery_stack: Delivery) -> Delivery:
    """The stack with provider stand-ins, shared with the other modules that need it (they
    import this fixture, or use conftest's `delivery_stack`)."""
    return delivery_stack


def test_delivery_single_send_reaches_every_platform_once(delivery):
    api = delivery.api
    app_id = api.new_app(vapid_subject="mailto:ops@pushgate.dev")
    user = "alice"
    tokens = {p: delivery.fcm_token() for p in ("android", "ios", "web")}
    for platform, token in tokens.items():
        delivery.register(app_id, user, platform, token)
    subscription = delivery.webpush.new_subscription()
    delivery.register(app_id, user, "web", subscription)
    topic = "t" + uuid.uuid4().hex[:10]
    delivery.register(app_id, user, "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})

    sent = delivery.send(
        app_id,
        user_id=user,
        title="Hello",
        body="World",
        data={"k": "v"},
        url="https://example.com/x",
        collapse_key="greet",
        urgency="high",
        ttl=600,
    )
    assert sent.status_code == 202, sent.text
    notification_id = sent.json()["notification_id"]
    status = delivery.wait_final(app_id, notification_id, devices=5)

    assert sorted(d["status"] for d in status["deliveries"]) == ["delivered"] * 5
    for token in tokens.values():
        messages = [m for m in delivery.fcm.delivered() if m.token == token]
        assert len(messages) == 1
        assert messages[0].notification_id == notification_id
        assert messages[0].data["k"] == "v"
    pushes = delivery.webpush.messages(subscription)
    assert len(pushes) == 1
    interactions = pushes[0].json()["interactions"]  # tests/e2e/test_interactions.py
    assert pushes[0].json() == {
        "notification_id": notification_id,
        "title": "Hello",
        "body": "World",
        "data": {"k": "v"},
        "url": "https://example.com/x",
        "icon": None,
        "image": None,
        "tag": "greet",
        "interactions": interactions,
    }
    assert interactions.startswith(
        f"{delivery.api.stack.api_url}/push/notifications/{notification_id}/interactions/"
    )
    published = delivery.ntfy.messages(topic)
    assert len(published) == 1
    assert published[0].request["title"] == "Hello"
    assert published[0].request["priority"] == 5
    assert pushes[0].urgency == "high"
    assert pushes[0].topic == topic_header("greet")


def test_delivery_bulk_of_500_users_all_arrive_and_501_is_refused(delivery):
    api = delivery.api
    app_id = api.new_app()
    users = [f"bulk-{i}" for i in range(500)]
    subscriptions = {}
    with ThreadPoolExecutor(8) as pool:

        def reg(user):
            subscriptions[user] = delivery.webpush.new_subscription(keyless=True)
            delivery.register(app_id, user, "web", subscriptions[user])

        list(pool.map(reg, users))
    refused = delivery.send(
        app_id, "/push/send/bulk", user_ids=[*users, "one-more"], title="t", body="b"
    )
    sent = delivery.send(app_id, "/push/send/bulk", user_ids=users, title="t", body="b")
    assert refused.status_code == 400
    assert sent.status_code == 202, sent.text
    ids = sent.json()["notification_ids"]
    assert len(ids) == len(set(ids)) == 500
    deadline = time.monotonic() + 300
    while sum(len(delivery.webpush.messages(s)) for s in subscriptions.values()) < 500:
        assert time.monotonic() < deadline, "bulk did not arrive"
        time.sleep(0.5)
    assert all(len(delivery.webpush.messages(s)) == 1 for s in subscriptions.values())
    assert delivery.wait_final(app_id, ids[-1], devices=1)["deliveries"][0]["status"] == "delivered"


def test_delivery_batch_of_500_different_messages_all_arrive(delivery):
    api = delivery.api
    app_id = api.new_app()
    topic = "batch" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "batch-user", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    notifications = [{"user_id": "batch-user", "title": f"n{i}", "body": "b"} for i in range(500)]
    sent = delivery.send(app_id, "/push/send/batch", notifications=notifications)
    too_many = delivery.send(
        app_id, "/push/send/batch", notifications=[*notifications, notifications[0]]
    )
    assert sent.status_code == 202, sent.text
    assert too_many.status_code == 400
    deadline = time.monotonic() + 300
    while len(delivery.ntfy.messages(topic)) < 500:
        assert time.monotonic() < deadline, "batch did not arrive"
        time.sleep(0.5)
    assert sorted(m.title for m in delivery.ntfy.messages(topic)) == sorted(
        f"n{i}" for i in range(500)
    )


def _emf_values(log: Path, metric: str) -> list[float]:
    """Every value of `metric` in the CloudWatch EMF documents a function printed."""
    values: list[float] = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        if metric in document:
            value = document[metric]
            values += value if isinstance(value, list) else [value]
    return values


def test_delivery_send_function_publishes_notifications_accepted(delivery):
    app_id = delivery.api.new_app()
    log = delivery.api.stack.log_path("SendFunction")
    before = len(_emf_values(log, "NotificationsAccepted"))

    sent = delivery.send(
        app_id, "/push/send/bulk", user_ids=["m1", "m2", "m3"], title="t", body="b"
    )

    assert sent.status_code == 202, sent.text
    assert _emf_values(log, "NotificationsAccepted")[before:] == [3]


def _job_traces(stack, app_id: str, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [
            document
            for document in stack.traces()
            if document.get("name") == "## delivery job"
            and document.get("annotations", {}).get("app_id") == app_id
        ]
        if jobs or time.monotonic() > deadline:
            return jobs
        time.sleep(0.1)


def test_delivery_traces_each_job_with_counts_and_never_an_endpoint(delivery):
    app_id = delivery.api.new_app()
    subscription = delivery.webpush.new_subscription()
    topic = "traced" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "traced-user", "web", subscription)
    delivery.register(app_id, "traced-user", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})

    nid = delivery.send(app_id, user_id="traced-user", title="t", body="b").json()[
        "notification_id"
    ]
    delivery.wait_final(app_id, nid, devices=2)
    jobs = _job_traces(delivery.api.stack, app_id)

    assert [job["annotations"] for job in jobs] == [
        {
            "app_id": app_id,
            "attempt": 0,
            "redelivered": False,
            "devices": 2,
            "delivered": 2,
            "failed": 0,
            "invalid_token": 0,
            "expired": 0,
            "retrying": 0,
        }
    ]
    assert jobs[0]["end_time"] > jobs[0]["start_time"]
    sent = json.dumps(delivery.api.stack.traces())
    endpoint_id = subscription["endpoint"].rsplit("/", 1)[1]
    assert endpoint_id not in sent
    assert topic not in sent
    assert '"namespace": "remote"' not in sent  # no provider request is traced at all
    assert '"namespace": "aws"' in sent  # while the AWS calls are


def test_delivery_quota_refuses_whole_requests_atomically(delivery):
    api = delivery.api
    app_id = api.new_app(daily_quota=10)
    users = [f"q{i}" for i in range(11)]
    refused = delivery.send(app_id, "/push/send/bulk", user_ids=users, title="t", body="b")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"
    midnight = 86400 - int(time.time()) % 86400
    assert abs(int(refused.headers["retry-after"]) - midnight) <= 5
    assert api.config(app_id).json()["notifications_today"] == 0
    ten = delivery.send(app_id, "/push/send/bulk", user_ids=users[:10], title="t", body="b")
    one = delivery.send(app_id, user_id="q10", title="t", body="b")
    assert (ten.status_code, one.status_code) == (202, 429)
    assert api.config(app_id).json()["notifications_today"] == 10


def test_delivery_concurrent_sends_never_exceed_quota(delivery):
    app_id = delivery.api.new_app(daily_quota=10)
    with ThreadPoolExecutor(20) as pool:
        statuses = list(
            pool.map(
                lambda i: delivery.send(app_id, user_id=f"c{i}", title="t", body="b").status_code,
                range(20),
            )
        )
    assert sorted(statuses) == [202] * 10 + [429] * 10
    assert delivery.api.config(app_id).json()["notifications_today"] == 10


def test_delivery_410_removes_the_device(delivery):
    api = delivery.api
    app_id = api.new_app()
    gone = delivery.webpush.new_subscription(behaviour=410)
    device_id = delivery.register(app_id, "gone-user", "web", gone)
    assert api.config(app_id).json()["device_count"] == 1
    nid = delivery.send(app_id, user_id="gone-user", title="t", body="b").json()["notification_id"]
    status = delivery.wait_final(app_id, nid, devices=1)
    assert status["deliveries"][0] | {"updated_at": None} == {
        "device_id": device_id,
        "platform": "web",
        "status": "invalid_token",
        "error": "webpush:410",
        "attempts": 1,
        "updated_at": None,
        "displayed_at": None,  # nothing reports a display for a failed delivery
        "clicked_at": None,
        "clicked_action": None,
    }
    assert api.config(app_id).json()["device_count"] == 0
    assert api.request("GET", f"/push/devices/{app_id}", api.admin).json()["devices"] == []


def test_delivery_web_push_signs_with_the_deployment_subject_and_an_apple_safe_topic(delivery):
    app_id = delivery.api.new_app()  # no vapid_subject of its own
    subscription = delivery.webpush.new_subscription()
    delivery.register(app_id, "safari-user", "web", subscription)

    nid = delivery.send(
        app_id, user_id="safari-user", title="t", body="b", collapse_key="abcde"
    ).json()["notification_id"]
    status = delivery.wait_final(app_id, nid, devices=1)

    # The stand-in refuses what Apple refuses: a placeholder sub (403 BadJwtToken) and a
    # Topic of 1 mod 4 characters (400 BadWebPushTopic).
    assert (status["deliveries"][0]["status"], status["deliveries"][0]["error"]) == (
        "delivered",
        None,
    )
    (push,) = delivery.webpush.messages(subscription)
    assert push.claims.subject == LOCAL_VAPID_SUBJECT
    assert push.topic == topic_header("abcde")
    assert len(push.topic) == 32


def test_delivery_refused_vapid_token_fails_once_and_keeps_the_device(delivery):
    api = delivery.api
    app_id = api.new_app()
    refusing = delivery.webpush.new_subscription(behaviour=always(403))
    device_id = delivery.register(app_id, "refused-user", "web", refusing)

    nid = delivery.send(app_id, user_id="refused-user", title="t", body="b").json()[
        "notification_id"
    ]
    status = delivery.wait_final(app_id, nid, devices=1)

    assert status["deliveries"][0] | {"updated_at": None} == {
        "device_id": device_id,
        "platform": "web",
        "status": "failed",
        "error": "webpush:vapid_rejected:BadJwtToken",
        "attempts": 1,
        "updated_at": None,
        "displayed_at": None,  # nothing reports a display for a failed delivery
        "clicked_at": None,
        "clicked_action": None,
    }
    assert delivery.webpush.attempts(refusing) == 1
    assert api.config(app_id).json()["device_count"] == 1


def test_delivery_429_with_retry_after_is_retried_after_the_wait(delivery):
    app_id = delivery.api.new_app()
    busy = delivery.webpush.new_subscription(behaviour=fail_first(1, 429, retry_after=2))
    delivery.register(app_id, "busy-user", "web", busy)
    nid = delivery.send(app_id, user_id="busy-user", title="t", body="b").json()["notification_id"]
    status = delivery.wait_final(app_id, nid, devices=1)
    times = [
        r.received_at
        for r in delivery.webpush.received()
        if busy["endpoint"].endswith(r.subscription_id)
    ]
    assert status["deliveries"][0]["status"] == "delivered"
    assert status["deliveries"][0]["attempts"] == 2
    assert times[1] - times[0] >= 2.0


def test_delivery_ttl_passing_while_retrying_ends_expired(delivery):
    app_id = delivery.api.new_app()
    down = delivery.webpush.new_subscription(behaviour=always(503))
    delivery.register(app_id, "ttl-user", "web", down)
    nid = delivery.send(app_id, user_id="ttl-user", title="t", body="b", ttl=3).json()[
        "notification_id"
    ]
    status = delivery.wait_final(app_id, nid, devices=1, timeout=30)
    assert status["deliveries"][0]["status"] == "expired"


def test_delivery_500_forever_fails_after_bounded_attempts(delivery):
    app_id = delivery.api.new_app()
    broken = delivery.webpush.new_subscription(behaviour=always(500))
    delivery.register(app_id, "broken-user", "web", broken)
    nid = delivery.send(app_id, user_id="broken-user", title="t", body="b").json()[
        "notification_id"
    ]
    status = delivery.wait_final(app_id, nid, devices=1, timeout=90)
    assert status["deliveries"][0]["status"] == "failed"
    assert status["deliveries"][0]["error"] == "webpush:500"
    assert status["deliveries"][0]["attempts"] == delivery.webpush.attempts(broken) == 8


def test_delivery_idempotency_key_replays_and_refuses_other_bodies(delivery):
    app_id = delivery.api.new_app()
    topic = "idem" + uuid.uuid4().hex[:8]
    delivery.register(app_id, "idem-user", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
    token = delivery.api.token(app_id, scope="push:send")
    key = {"idempotency-key": uuid.uuid4().hex}
    body = {"user_id": "idem-user", "title": "once", "body": "b"}
    first = delivery.api.request("POST", "/push/send", token, json=body, headers=key)
    second = delivery.api.request("POST", "/push/send", token, json=body, headers=key)
    other = delivery.api.request(
        "POST", "/push/send", token, json=body | {"title": "x"}, headers=key
    )
    assert (first.status_code, second.status_code, other.status_code) == (202, 202, 422)
    assert first.json() == second.json()
    delivery.wait_final(app_id, first.json()["notification_id"], devices=1)
    assert delivery.api.config(app_id).json()["notifications_today"] == 1
    assert len(delivery.ntfy.messages(topic)) == 1


def test_delivery_fetches_fcm_oauth_tokens_once_per_container(delivery):
    app_id = delivery.api.new_app()
    for i in range(6):
        delivery.register(app_id, f"oauth-{i}", "android", delivery.fcm_token())
    before = delivery.fcm.token_requests
    ids = delivery.send(
        app_id, "/push/send/bulk", user_ids=[f"oauth-{i}" for i in range(6)], title="t", body="b"
    ).json()["notification_ids"]
    for nid in ids:
        delivery.wait_final(app_id, nid, devices=1)
    assert delivery.fcm.token_requests - before <= 4  # at most one per deliver worker
    assert delivery.fcm.token_requests <= 4
