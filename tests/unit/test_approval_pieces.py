"""The parts of approval requests that need no AWS: decision tokens, the request's rules, each
channel's rendering, the FCM message with buttons, and receipts of both types."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from pushgate.approvals import capabilities
from pushgate.approvals import push as approval_push
from pushgate.approvals.actions import ApprovalAction, ApprovalPush
from pushgate.approvals.models import ApprovalRequest
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.providers import FcmInteractive, FcmMessage, build_fcm_message
from pushgate.receipts.models import ApprovalReceipt, Receipt, ReceiptMessage

KEY = os.urandom(32)
DEVICE = "dev_" + "a" * 32
PUSH = ApprovalPush(
    approval_id="apr_" + "0" * 26,
    actions=[
        ApprovalAction(id="approve", label="Approve"),
        ApprovalAction(id="deny", label="Deny", denies=True),
    ],
)


def test_tokens_are_bound_to_the_device_the_action_and_the_key():
    token = capabilities.decision_token(KEY, DEVICE, 1)
    claimed = capabilities.claim(token)

    assert len(token) == 76
    assert claimed == capabilities.Claim(1, DEVICE, token[33:])
    assert capabilities.holds(KEY, claimed)
    assert not capabilities.holds(os.urandom(32), claimed)  # another approval's key
    other_action = capabilities.claim("0" + token[1:])
    other_device = capabilities.claim(token[0] + "b" * 32 + token[33:])
    assert not capabilities.holds(KEY, other_action)
    assert not capabilities.holds(KEY, other_device)


@pytest.mark.parametrize(
    "token",
    ["", "x", "0" + "a" * 32 + "b" * 42, "a" + "a" * 32 + "b" * 43, "0" + "A" * 32 + "b" * 43],
)
def test_claim_refuses_anything_not_shaped_like_a_token(token):
    assert capabilities.claim(token) is None


def test_request_defaults_to_approve_and_deny_for_60_seconds():
    request = ApprovalRequest(user_id="alice", title="t", body="b")

    assert request.timeout_seconds == 60
    assert [(a.id, a.denies) for a in request.actions] == [("approve", False), ("deny", True)]


@pytest.mark.parametrize(
    "changes",
    [
        {"timeout_seconds": 9},
        {"timeout_seconds": 901},
        {"timeout_seconds": "60"},
        {"actions": []},
        {"actions": [{"id": f"a{i}", "label": "x"} for i in range(4)]},
        {"actions": [{"id": "no", "label": "No", "denies": True}]},
        {"actions": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]},
        {"actions": [{"id": "a", "label": ""}]},
        {"data": {"from": "x"}},
        {"url": "javascript:alert(1)"},
    ],
)
def test_request_refuses(changes):
    with pytest.raises(ValidationError):
        ApprovalRequest.model_validate({"user_id": "alice", "title": "t", "body": "b"} | changes)


def _job(push: ApprovalPush = PUSH) -> DeliveryJob:
    message = MessageContent(title="Sign in?", body="Berlin", collapse_key=push.approval_id)
    return DeliveryJob(
        notification_id="ntf_" + "1" * 26,
        app_id="demo",
        user_id="alice",
        message=message,
        created_at=0,
        expires_at=60,
        approval=push,
    )


def test_each_device_gets_decision_urls_of_its_own():
    mine = approval_push.decision_urls("https://api.example", PUSH, KEY, DEVICE)
    theirs = approval_push.decision_urls("https://api.example", PUSH, KEY, "dev_" + "b" * 32)

    assert list(mine) == ["approve", "deny"]
    assert mine["approve"].startswith(f"https://api.example/push/approvals/{PUSH.approval_id}/")
    assert set(mine.values()).isdisjoint(theirs.values())
    assert max(len(u) for u in mine.values()) <= (
        len("https://api.example") + approval_push.DECISION_PATH_LENGTH
    )


def test_ntfy_gets_http_actions_that_clear_the_notification():
    urls = {"approve": "https://a/1", "deny": "https://a/2"}

    assert approval_push.ntfy_actions(PUSH, urls) == [
        {
            "action": "http",
            "label": "Approve",
            "url": "https://a/1",
            "method": "POST",
            "clear": True,
        },
        {"action": "http", "label": "Deny", "url": "https://a/2", "method": "POST", "clear": True},
    ]


def test_web_push_payload_carries_actions_decisions_and_the_tag():
    urls = {"approve": "https://a/1", "deny": "https://a/2"}

    document = approval_push.webpush_document(_job(), PUSH, urls)

    assert document["tag"] == PUSH.approval_id
    assert document["actions"] == [
        {"action": "approve", "title": "Approve"},
        {"action": "deny", "title": "Deny"},
    ]
    assert document["requireInteraction"] is True
    assert document["approval"] == {
        "approval_id": PUSH.approval_id,
        "decisions": urls,
        "denies": ["deny"],
    }


def test_a_replacement_carries_the_outcome_and_no_buttons():
    answered = ApprovalPush(approval_id=PUSH.approval_id, status="expired")

    document = approval_push.webpush_document(_job(answered), answered, {})

    assert document["approval"] == {"approval_id": PUSH.approval_id, "status": "expired"}
    assert "actions" not in document
    assert "requireInteraction" not in document
    assert approval_push.fcm_data(answered, {}) == {
        "approval_id": PUSH.approval_id,
        "approval_status": "expired",
    }


def test_fcm_with_buttons_has_no_notification_block_and_an_ios_category():
    urls = {"approve": "https://a/1", "deny": "https://a/2"}
    message = FcmMessage(
        notification_id="ntf_1",
        title="Sign in?",
        body="Berlin",
        data=approval_push.fcm_data(PUSH, urls),
        collapse_key=PUSH.approval_id,
        tag=PUSH.approval_id,
        interactive=FcmInteractive("PUSHGATE_APPROVAL", tuple(approval_push.fcm_web_actions(PUSH))),
    )

    body = build_fcm_message("token", message, now=0)["message"]

    assert "notification" not in body
    assert body["android"]["priority"] == "HIGH"
    assert "notification" not in body["android"]
    assert body["apns"]["payload"] == {
        "aps": {
            "alert": {"title": "Sign in?", "body": "Berlin"},
            "category": "PUSHGATE_APPROVAL",
            "sound": "default",
        }
    }
    assert body["webpush"]["notification"]["actions"] == [
        {"action": "approve", "title": "Approve"},
        {"action": "deny", "title": "Deny"},
    ]
    assert json.loads(body["data"]["approval_actions"])[1] == {
        "id": "deny",
        "label": "Deny",
        "denies": True,
        "url": "https://a/2",
    }
    assert all(isinstance(value, str) for value in body["data"].values())


def test_fcm_replacement_names_the_shown_notifications_tag():
    message = FcmMessage(notification_id="ntf_1", title="Expired", tag=PUSH.approval_id)

    body = build_fcm_message("token", message, now=0)["message"]

    assert body["notification"] == {"title": "Expired"}
    assert body["android"]["notification"] == {"tag": PUSH.approval_id}


def _delivery_receipt(**changes) -> dict:
    return {
        "notification_id": "ntf_1",
        "user_id": "alice",
        "device_id": DEVICE,
        "app_id": "demo",
        "platform": "web",
        "status": "delivered",
        "error": None,
        "timestamp": "2026-12-01T00:00:00.000Z",
    } | changes


def test_receipt_messages_queued_before_receipts_had_a_type_are_delivery_receipts():
    message = ReceiptMessage.model_validate({"receipt": _delivery_receipt()})

    assert isinstance(message.receipt, Receipt)
    assert json.loads(message.model_dump_json())["receipt"]["type"] == "delivery"


def test_approval_receipts_have_their_own_type_and_webhook_id():
    approval = {
        "type": "approval",
        "approval_id": PUSH.approval_id,
        "app_id": "demo",
        "user_id": "alice",
        "status": "expired",
        "approved": False,
        "action": None,
        "device_id": None,
        "decided_at": "2026-12-01T00:01:00.000Z",
        "reason": None,
        "timestamp": "2026-12-01T00:01:00.000Z",
    }

    message = ReceiptMessage.model_validate({"receipt": approval})
    delivery = ReceiptMessage.model_validate({"receipt": _delivery_receipt(type="delivery")})

    assert isinstance(message.receipt, ApprovalReceipt)
    assert message.receipt.webhook_id() != delivery.receipt.webhook_id()
    assert message.receipt.webhook_id() == ApprovalReceipt(**approval).webhook_id()
    with pytest.raises(ValidationError):
        ReceiptMessage.model_validate({"receipt": approval | {"type": "other"}})
