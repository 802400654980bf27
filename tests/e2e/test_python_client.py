"""The Python client's README lines, run against the local stack: send, wait for an approval
that a device answers, verify the receipt that arrives; and the same through the async
client, with devices paged and config read and changed."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from pushgate_client import AsyncPushgate, NotFoundError, Pushgate, verify_receipt
from tests.e2e.test_approvals import wait_for
from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.standins.webhook import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


@pytest.fixture
def tenant(delivery):  # noqa: F811
    with WebhookReceiver() as receiver:
        hook = receiver.new_url()
        app_id = delivery.api.new_app(webhook_url=hook)
        secret = delivery.api.config(app_id).json()["webhook_secret"]
        topic = "pc" + uuid.uuid4().hex[:10]
        delivery.register(app_id, "alice", "ntfy", {"url": f"{delivery.ntfy.url}/{topic}"})
        yield delivery, receiver, hook, app_id, secret, topic


def test_the_readme_lines_send_wait_for_an_approval_and_verify_its_receipt(tenant) -> None:
    stack, receiver, hook, app_id, webhook_secret, topic = tenant
    api_url, token = stack.api.stack.api_url, stack.api.token(app_id, scope="push:send")

    # -- the README's lines ---------------------------------------------------------------
    push = Pushgate(api_url, token=token)
    notification_id = push.send("alice", "Hello", "You have a reply")
    broadcast_id = push.broadcast("Maintenance tonight", "22:00-23:00 UTC")  # every device
    approval = push.approvals.create("alice", "Sign in?", "Firefox on Linux")
    tapping = threading.Thread(target=lambda: _tap_when_asked(stack, topic), daemon=True)
    tapping.start()
    answer = push.approvals.wait(approval["approval_id"], timeout=60)
    # ... and in the webhook handler: receipt = verify_receipt(body, headers, webhook_secret)
    # ---------------------------------------------------------------------------------------
    tapping.join(30)
    receipts = wait_for(lambda: _approval_answered(receiver.calls(hook), webhook_secret), "receipt")

    assert notification_id.startswith("ntf_")
    assert (answer["status"], answer["approved"], answer["action"]) == (
        "approved",
        True,
        "approve",
    )
    # the notification's, the broadcast's and the approval push's delivery receipts, and the
    # approval's
    assert sorted((r["type"], r["status"]) for r in receipts) == [
        ("approval", "approved"),
        ("delivery", "delivered"),
        ("delivery", "delivered"),
        ("delivery", "delivered"),
    ]
    assert push.notification_status(notification_id)["deliveries"][0]["status"] == "delivered"
    finished = wait_for(
        lambda: (state := push.broadcast_status(broadcast_id))["finished"] and state, "broadcast"
    )
    assert (finished["status"], finished["total"], finished["reached"]) == ("finished", 1, 1)
    assert finished["by_outcome"]["delivered"] == 1


def _approval_answered(calls, secret: str) -> list[dict] | None:
    receipts = [verify_receipt(c.body, c.headers, secret) for c in calls]
    answered = any(r["type"] == "approval" for r in receipts)
    return receipts if len(receipts) == 4 and answered else None


def _tap_when_asked(stack, topic: str) -> None:
    messages = wait_for(lambda: [m for m in stack.ntfy.messages(topic) if m.actions], "the ask")
    stack.ntfy.tap(messages[0], "Approve")


def test_the_async_client_pages_devices_and_reads_and_changes_config(tenant) -> None:
    stack, _, _, app_id, _, _ = tenant
    for n in range(3):
        topic = f"pg{n}{uuid.uuid4().hex[:8]}"
        stack.register(app_id, f"user-{n}", "ntfy", {"url": f"{stack.ntfy.url}/{topic}"})
    admin = stack.api.admin

    async def go():
        async with AsyncPushgate(stack.api.stack.api_url, token=admin, app_id=app_id) as push:
            devices = [d async for d in push.devices(app_id, page_size=2)]
            changed = await push.config.update(app_id, daily_quota=1234)
            read = await push.config.get(app_id)
            sent = await push.send_bulk(["user-0", "user-1"], "Hi", "all")
            try:
                await push.approvals.get("apr_" + "0" * 26)
            except NotFoundError as exc:
                missing = exc
            return devices, changed, read, sent, missing

    devices, changed, read, sent, missing = asyncio.run(go())

    assert len(devices) == 4
    assert len({d["device_id"] for d in devices}) == 4
    assert changed["daily_quota"] == read["daily_quota"] == 1234
    assert len(sent) == 2
    assert (missing.status, missing.code) == (404, "approval_not_found")
