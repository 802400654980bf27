"""Approval requests end to end on the delivery stack: the buttons as each channel carries
them (ntfy http actions, the Web Push payload, FCM data), decisions taken the way each client
takes them (POSTing the action's URL), the timeout that denies, the long-poll, the signed
receipt, and the decision URLs refused when forged, reused or late."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.standins.ntfy import NtfyMessage
from tests.standins.webhook import WebhookReceiver
from tests.standins.webpush import PushMessage

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


class AskedTwice(NamedTuple):
    approval_id: str
    topic: str
    message: NtfyMessage
    subscription: dict
    push: PushMessage


class Approvals:
    """One app with a webhook, its service token, and helpers to wait for what arrives."""

    def __init__(self, stack, receiver: WebhookReceiver) -> None:
        self.delivery, self.receiver = stack, receiver
        self.hook = receiver.new_url()
        self.app_id = stack.api.new_app(webhook_url=self.hook)
        self.secret = stack.api.config(self.app_id).json()["webhook_secret"]
        self.token = stack.api.token(self.app_id, scope="push:send")

    def ask(self, user: str, **body) -> httpx.Response:
        document = {"user_id": user, "title": "Sign in from Firefox?", "body": "Berlin"} | body
        return self.delivery.api.request("POST", "/push/approvals", self.token, json=document)

    def get(self, approval_id: str, wait: float | None = None) -> httpx.Response:
        params = {"wait": wait} if wait is not None else None
        return self.delivery.api.request(
            "GET", f"/push/approvals/{approval_id}", self.token, params=params
        )

    def ntfy_device(self, user: str) -> str:
        topic = "apr" + uuid.uuid4().hex[:10]
        self.delivery.register(
            self.app_id, user, "ntfy", {"url": f"{self.delivery.ntfy.url}/{topic}"}
        )
        return topic

    def ask_on_ntfy_and_web_push(self, user: str) -> AskedTwice:
        """Asks a user with an ntfy topic and a browser, once both pushes arrived."""
        topic = self.ntfy_device(user)
        subscription = self.delivery.webpush.new_subscription()
        self.delivery.register(self.app_id, user, "web", subscription)
        approval_id = self.ask(user).json()["approval_id"]
        (message,) = wait_for(lambda: self.delivery.ntfy.messages(topic), "the ntfy push")
        (push,) = wait_for(lambda: self.delivery.webpush.messages(subscription), "the push")
        return AskedTwice(approval_id, topic, message, subscription, push)

    def approval_receipts(self, count: int = 1, timeout: float = 40) -> list:
        deadline = time.monotonic() + timeout
        while True:
            calls = [c for c in self.receiver.calls(self.hook) if c.json()["type"] == "approval"]
            if len(calls) >= count:
                return calls
            assert time.monotonic() < deadline, f"{len(calls)} of {count} approval receipts"
            time.sleep(0.2)


def post(url: str) -> httpx.Response:
    """POST a decision URL as a client taps it: no body, no credentials."""
    return httpx.post(url, timeout=60)


def wait_for(found, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.1)
    return result


@pytest.fixture
def approvals(delivery, receiver) -> Approvals:  # noqa: F811
    return Approvals(delivery, receiver)


def test_approve_by_tapping_the_ntfy_action(approvals):
    topic = approvals.ntfy_device("alice")
    created = approvals.ask("alice", timeout_seconds=60)
    approval_id = created.json()["approval_id"]
    waiting: dict = {}
    poll = threading.Thread(target=lambda: waiting.update(r=approvals.get(approval_id, wait=20)))
    poll.start()
    (message,) = wait_for(lambda: approvals.delivery.ntfy.messages(topic), "the ntfy push")

    tapped = approvals.delivery.ntfy.tap(message, "Approve")  # as the ntfy app sends it
    poll.join(timeout=25)
    read = approvals.get(approval_id)
    (receipt,) = approvals.approval_receipts()

    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert [(a["action"], a["label"], a["method"], a["clear"]) for a in message.actions] == [
        ("http", "Approve", "POST", True),
        ("http", "Deny", "POST", True),
    ]
    assert tapped.status_code == 200
    assert tapped.json()["status"] == "approved"
    assert waiting["r"].json()["status"] == "approved"
    assert read.json() | {"decided_at": None} == waiting["r"].json() | {"decided_at": None}
    assert read.json()["approved"] is True
    assert read.json()["action"] == "approve"
    Webhook(approvals.secret).verify(receipt.body, receipt.headers)
    assert receipt.json() | {"timestamp": None} == {
        "type": "approval",
        "approval_id": approval_id,
        "app_id": approvals.app_id,
        "user_id": "alice",
        "status": "approved",
        "approved": True,
        "action": "approve",
        "device_id": read.json()["device_id"],
        "decided_at": read.json()["decided_at"],
        "reason": None,
        "timestamp": None,
    }


def test_deny_through_the_web_push_payloads_decision_url(approvals):
    subscription = approvals.delivery.webpush.new_subscription()
    approvals.delivery.register(approvals.app_id, "bob", "web", subscription)
    approval_id = approvals.ask("bob").json()["approval_id"]
    (push,) = wait_for(lambda: approvals.delivery.webpush.messages(subscription), "the push")
    payload = push.json()

    denied = post(payload["approval"]["decisions"]["deny"])
    (receipt,) = approvals.approval_receipts()

    assert payload["tag"] == approval_id
    assert payload["requireInteraction"] is True
    assert payload["actions"] == [
        {"action": "approve", "title": "Approve"},
        {"action": "deny", "title": "Deny"},
    ]
    assert payload["approval"]["denies"] == ["deny"]
    assert (denied.status_code, denied.json()["status"], denied.json()["approved"]) == (
        200,
        "denied",
        False,
    )
    assert approvals.get(approval_id).json()["status"] == "denied"
    assert (receipt.json()["status"], receipt.json()["action"]) == ("denied", "deny")


def test_no_answer_expires_after_the_timeout_and_reads_as_denied(approvals):
    topic = approvals.ntfy_device("carol")
    asked = time.monotonic()
    approval_id = approvals.ask("carol", timeout_seconds=10).json()["approval_id"]
    (message,) = wait_for(lambda: approvals.delivery.ntfy.messages(topic), "the ntfy push")

    waited = approvals.get(approval_id, wait=25)
    elapsed = time.monotonic() - asked
    (receipt,) = approvals.approval_receipts(timeout=40)
    late = approvals.delivery.ntfy.tap(message, "Approve")

    assert waited.json()["status"] == "expired"
    assert waited.json()["approved"] is False
    assert 10 <= elapsed < 25  # the long-poll answers within its 0.5 s poll of the expiry
    assert approvals.get(approval_id).json()["status"] == "expired"
    assert (receipt.json()["status"], receipt.json()["approved"]) == ("expired", False)
    assert (late.status_code, late.json()["error"]["code"]) == (410, "approval_expired")
    assert approvals.get(approval_id).json()["status"] == "expired"


def test_forged_and_misused_decision_urls_are_refused_and_change_nothing(approvals, caplog):
    caplog.set_level(logging.INFO, logger="local.server")
    topic = approvals.ntfy_device("dave")
    first = approvals.ask("dave").json()["approval_id"]
    second = approvals.ask("dave").json()["approval_id"]
    messages = wait_for(
        lambda: (
            len(approvals.delivery.ntfy.messages(topic)) == 2
            and approvals.delivery.ntfy.messages(topic)
        ),
        "both pushes",
    )
    urls = {m.actions[0]["url"].split("/")[-3]: [a["url"] for a in m.actions] for m in messages}
    approve_first, deny_first = urls[first]
    token = approve_first.rsplit("/", 1)[1]
    base = approve_first.split("/push/")[0]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_action = "1" + token[1:]

    answers = [
        post(f"{base}/push/approvals/{second}/decisions/{token}"),  # another approval's
        post(f"{base}/push/approvals/{first}/decisions/{flipped}"),  # forged MAC
        post(f"{base}/push/approvals/{first}/decisions/{other_action}"),  # other action
        post(f"{base}/push/approvals/{first}/decisions/not-a-token"),
    ]
    untouched = [approvals.get(first).json()["status"], approvals.get(second).json()["status"]]
    approved = post(approve_first)
    again = post(approve_first)
    changed_mind = post(deny_first)

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (404, "decision_not_found")
    ] * 4
    assert untouched == ["pending", "pending"]
    assert approved.status_code == 200
    assert (again.status_code, again.json()) == (200, approved.json())
    assert (changed_mind.status_code, changed_mind.json()["error"]["code"]) == (
        409,
        "already_decided",
    )
    assert approvals.get(first).json()["status"] == "approved"
    assert approvals.get(second).json()["status"] == "pending"
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "local.server")
    assert "POST /push/approvals/{approval_id}/decisions/{token} -> 409" in logged
    assert token not in logged  # the capability never reaches a log line


def test_concurrent_decisions_on_two_devices_exactly_one_wins(approvals):
    approval_id, _, message, _, push = approvals.ask_on_ntfy_and_web_push("erin")
    urls = [message.actions[0]["url"], push.json()["approval"]["decisions"]["deny"]]

    barrier = threading.Barrier(len(urls) * 4)

    def tap(url: str) -> httpx.Response:
        barrier.wait()
        return post(url)

    with ThreadPoolExecutor(len(urls) * 4) as pool:
        answers = list(pool.map(tap, urls * 4))
    final = approvals.get(approval_id).json()
    winner = urls[0] if final["status"] == "approved" else urls[1]
    receipts = approvals.approval_receipts()
    time.sleep(1)  # nothing more arrives

    assert final["status"] in ("approved", "denied")
    assert sorted(a.status_code for a in answers) == [200] * 4 + [409] * 4
    assert {a.status_code for a, url in zip(answers, urls * 4, strict=True) if url == winner} == {
        200
    }
    assert len(receipts) == 1
    assert len(approvals.approval_receipts()) == 1
    assert receipts[0].json()["status"] == final["status"]


def test_the_other_devices_notification_is_replaced_once_answered(approvals):
    approval_id, topic, message, subscription, _ = approvals.ask_on_ntfy_and_web_push("frank")

    approvals.delivery.ntfy.tap(message, "Approve")
    pushes = wait_for(
        lambda: (
            len(approvals.delivery.webpush.messages(subscription)) == 2
            and approvals.delivery.webpush.messages(subscription)
        ),
        "the replacement",
    )
    replacement = pushes[1].json()

    assert replacement["tag"] == approval_id
    assert replacement["title"] == "Answered on another device"
    assert replacement["approval"] == {"approval_id": approval_id, "status": "approved"}
    assert "actions" not in replacement
    assert len(approvals.delivery.ntfy.messages(topic)) == 1  # ntfy cannot replace


def test_fcm_devices_get_the_buttons_as_data_and_web_actions(approvals):
    token = approvals.delivery.fcm_token()
    approvals.delivery.register(approvals.app_id, "grace", "android", token)
    approval_id = approvals.ask("grace", data={"request": "r-1"}).json()["approval_id"]
    (sent,) = wait_for(
        lambda: [m for m in approvals.delivery.fcm.delivered() if m.token == token], "FCM"
    )
    message = sent.message
    actions = json.loads(message["data"]["approval_actions"])

    assert "notification" not in message  # Android: the app builds the buttons
    assert message["data"]["approval_id"] == approval_id
    assert message["data"]["request"] == "r-1"
    assert [(a["id"], a["label"], a["denies"]) for a in actions] == [
        ("approve", "Approve", False),
        ("deny", "Deny", True),
    ]
    assert message["android"]["priority"] == "HIGH"
    assert message["apns"]["payload"]["aps"]["category"] == "PUSHGATE_APPROVAL"
    assert message["webpush"]["notification"]["actions"] == [
        {"action": "approve", "title": "Approve"},
        {"action": "deny", "title": "Deny"},
    ]
    assert post(actions[1]["url"]).json()["status"] == "denied"


def test_a_user_without_devices_is_denied_at_once_and_not_counted(approvals):
    before = approvals.delivery.api.config(approvals.app_id).json()["notifications_today"]

    created = approvals.ask("nobody")
    (receipt,) = approvals.approval_receipts()
    after = approvals.delivery.api.config(approvals.app_id).json()["notifications_today"]

    assert created.status_code == 201
    assert (created.json()["status"], created.json()["reason"]) == ("denied", "no_devices")
    assert approvals.get(created.json()["approval_id"]).json()["approved"] is False
    assert (receipt.json()["status"], receipt.json()["reason"]) == ("denied", "no_devices")
    assert after == before


def test_an_approval_counts_one_against_the_quota_and_replays_its_key(approvals):
    approvals.ntfy_device("heidi")
    before = approvals.delivery.api.config(approvals.app_id).json()["notifications_today"]
    headers = {"idempotency-key": uuid.uuid4().hex}
    body = {"user_id": "heidi", "title": "t", "body": "b"}
    api = approvals.delivery.api

    first = api.request("POST", "/push/approvals", approvals.token, json=body, headers=headers)
    replay = api.request("POST", "/push/approvals", approvals.token, json=body, headers=headers)
    after = approvals.delivery.api.config(approvals.app_id).json()["notifications_today"]

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert after == before + 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"timeout_seconds": 9}, "timeout_seconds"),
        ({"timeout_seconds": 901}, "timeout_seconds"),
        ({"actions": [{"id": f"a{i}", "label": "x"} for i in range(4)]}, "actions"),
        ({"actions": [{"id": "no", "label": "No", "denies": True}]}, "at least one action"),
        ({"actions": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]}, "unique"),
        ({"actions": [{"id": "Bad Id", "label": "A"}]}, "actions"),
    ],
)
def test_invalid_requests_are_400_and_send_nothing(approvals, body, message):
    topic = approvals.ntfy_device("ivan")

    refused = approvals.ask("ivan", **body)

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_request")
    assert message in refused.json()["error"]["message"]
    approvals.delivery.wait_queue_drained()
    assert approvals.delivery.ntfy.messages(topic) == ()


def test_only_the_owning_app_may_ask_and_read(approvals):
    api = approvals.delivery.api
    approvals.ntfy_device("judy")
    approval_id = approvals.ask("judy").json()["approval_id"]
    other = api.token(api.new_app(), scope="push:send")
    body = {"user_id": "judy", "title": "t", "body": "b"}

    as_user = api.request(
        "POST", "/push/approvals", api.token("judy", aud=[approvals.app_id]), json=body
    )
    anonymous = api.request("POST", "/push/approvals", json=body)
    others = api.request("GET", f"/push/approvals/{approval_id}", other)
    unknown = approvals.get("apr_" + "0" * 26)

    assert (as_user.status_code, as_user.json()["error"]["code"]) == (403, "forbidden")
    assert anonymous.status_code == 401
    assert (others.status_code, others.json()["error"]["code"]) == (404, "approval_not_found")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "approval_not_found")
