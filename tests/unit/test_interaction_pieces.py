"""The parts of interactions that need no AWS: tokens bound to a notification and a device,
the report's rules, the URL each push carries (Web Push, approval variant, FCM; none for
pushgate's own pushes), the refusal of forged and misused URLs, and the receipt."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from pushgate import capabilities as shared
from pushgate import settings
from pushgate.approvals.actions import ApprovalAction, ApprovalPush
from pushgate.delivery import dispatch
from pushgate.delivery.app_keys import AppKeys
from pushgate.devices.addresses import FcmAddress, WebPushAddress
from pushgate.errors import NotFoundError
from pushgate.interactions import capabilities, service
from pushgate.interactions import push as interactions
from pushgate.interactions.models import InteractionReport
from pushgate.notifications.models import DeliveryJob, MessageContent, SendRequest
from pushgate.providers import Outcome
from pushgate.receipts.models import InteractionReceipt, Receipt, ReceiptMessage
from pushgate.storage.notifications import Notification

KEY = os.urandom(32)
DEVICE = "dev_" + "a" * 32
OTHER_DEVICE = "dev_" + "b" * 32
NOTIFICATION = "ntf_" + "1" * 26
OTHER_NOTIFICATION = "ntf_" + "2" * 26
ROOT = os.urandom(32)


@pytest.fixture
def kms(monkeypatch) -> list[tuple[str, str]]:
    """The deployment's KMS key stood in for: each derivation asked for, in order."""
    asked: list[tuple[str, str]] = []

    def derived_key(purpose: str, subject: str, *, key_id: str | None = None) -> bytes:
        asked.append((purpose, subject))
        return ROOT

    monkeypatch.setattr(shared, "derived_key", derived_key)
    monkeypatch.setattr(capabilities, "_roots", {})
    return asked


# ---------------------------------------------------------------- tokens


def test_tokens_are_bound_to_the_device_and_the_notifications_key():
    token = capabilities.interaction_token(KEY, DEVICE)
    claimed = capabilities.claim(token)

    assert len(token) == capabilities.TOKEN_LENGTH == 75
    assert claimed == capabilities.Claim(DEVICE, token[32:])
    assert capabilities.holds(KEY, claimed)
    assert not capabilities.holds(os.urandom(32), claimed)  # another notification's key
    other_device = capabilities.claim("b" * 32 + token[32:])
    assert other_device is not None
    assert not capabilities.holds(KEY, other_device)


@pytest.mark.parametrize(
    "token",
    ["", "x", "a" * 32 + "b" * 42, "a" * 32 + "b" * 44, "A" * 32 + "b" * 43, "a" * 31 + "1b" * 22],
)
def test_claim_refuses_anything_not_shaped_like_a_token(token):
    assert capabilities.claim(token) is None


def test_each_notification_has_its_own_key_from_one_kms_derivation_per_container(kms):
    first = capabilities.notification_key(NOTIFICATION)
    again = capabilities.notification_key(NOTIFICATION)
    other = capabilities.notification_key(OTHER_NOTIFICATION)

    assert first == again != other
    assert len(first) == 32
    assert kms == [("pushgate-notification-interactions-v1", "notifications")]


def test_the_key_is_not_at_hand_without_blocking_until_the_root_was_derived(kms):
    assert capabilities.cached_notification_key(NOTIFICATION) is None
    derived = capabilities.notification_key(NOTIFICATION)

    assert capabilities.cached_notification_key(NOTIFICATION) == derived


def test_decision_tokens_and_interaction_tokens_never_share_a_key(kms, monkeypatch):
    """Both come from the deployment's key, under purposes of their own."""
    from pushgate.approvals import capabilities as decisions

    decisions.approval_key("apr_" + "0" * 26)
    capabilities.notification_key(NOTIFICATION)

    assert [purpose for purpose, _ in kms] == [
        "pushgate-approval-decisions-v1",
        "pushgate-notification-interactions-v1",
    ]


def test_the_url_names_the_notification_and_fits_the_longest_allowed():
    url = interactions.interactions_url("https://api.example", NOTIFICATION, KEY, DEVICE)
    token = capabilities.interaction_token(KEY, DEVICE)

    assert url == f"https://api.example/push/notifications/{NOTIFICATION}/interactions/{token}"
    assert len("https://" + "h" * 100 + url.removeprefix("https://api.example")) == (
        interactions.MAX_URL_LENGTH
    )


# ---------------------------------------------------------------- the report's rules


@pytest.mark.parametrize(
    ("body", "event", "action"),
    [
        ({"event": "displayed"}, "displayed", None),
        ({"event": "displayed", "action": None}, "displayed", None),
        ({"event": "clicked"}, "clicked", None),
        ({"event": "clicked", "action": None}, "clicked", None),
        ({"event": "clicked", "action": "reply"}, "clicked", "reply"),
    ],
)
def test_a_report_is_a_display_or_a_click_with_its_action(body, event, action):
    report = InteractionReport.model_validate(body)

    assert (report.event, report.action) == (event, action)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event": "dismissed"},
        {"event": "displayed", "action": "reply"},
        {"event": "clicked", "action": ""},
        {"event": "clicked", "action": "x" * 65},
        {"event": "clicked", "action": "a\nb"},
        {"event": "clicked", "action": 1},
        {"event": "clicked", "extra": True},
    ],
)
def test_a_report_refuses(body):
    with pytest.raises(ValidationError):
        InteractionReport.model_validate(body)


def test_a_send_may_not_use_the_interactions_url_data_key():
    with pytest.raises(ValidationError, match="reserved"):
        SendRequest(user_id="alice", title="t", body="b", data={"interactions_url": "x"})


# ---------------------------------------------------------------- refused URLs


@pytest.fixture
def reported(monkeypatch, kms) -> list[tuple[str, Any]]:
    """The service with a known notification and storage stood in for: what it writes."""
    writes: list[tuple[str, Any]] = []
    notification = Notification(NOTIFICATION, "demo", "alice", "t", {DEVICE: {"platform": "web"}})
    monkeypatch.setattr(service, "find", lambda nid: notification if nid == NOTIFICATION else None)
    monkeypatch.setattr(service, "require_slot", lambda key, **_: writes.append(("slot", key)))
    for name in ("get_interaction", "record_display", "record_click"):
        monkeypatch.setattr(
            service.notifications,
            name,
            lambda *args, _name=name, **kwargs: writes.append((_name, args)),
        )
    return writes


def _flipped(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def _url_token(notification_id: str, device_id: str) -> str:
    return capabilities.interaction_token(capabilities.notification_key(notification_id), device_id)


@pytest.mark.parametrize(
    ("notification_id", "token"),
    [
        pytest.param(
            NOTIFICATION,
            lambda: _flipped(_url_token(NOTIFICATION, DEVICE)),
            id="forged",
        ),
        pytest.param(
            NOTIFICATION,
            lambda: "b" * 32 + _url_token(NOTIFICATION, DEVICE)[32:],
            id="other-device",
        ),
        pytest.param(
            NOTIFICATION, lambda: _url_token(OTHER_NOTIFICATION, DEVICE), id="other-notification"
        ),
        pytest.param(
            OTHER_NOTIFICATION, lambda: _url_token(OTHER_NOTIFICATION, DEVICE), id="unknown"
        ),
        pytest.param(NOTIFICATION, lambda: "not-a-token", id="not-a-token"),
    ],
)
def test_a_url_that_is_not_the_notifications_and_the_devices_is_not_found(
    reported, notification_id, token
):
    with pytest.raises(NotFoundError) as refused:
        service.report(notification_id, token(), InteractionReport(event="clicked"))

    assert (refused.value.status, refused.value.code) == (404, "interaction_not_found")
    assert [kind for kind, _ in reported if kind != "slot"] == []  # nothing read or written


def test_the_devices_own_url_is_taken(reported, monkeypatch):
    from pushgate.storage.notifications import Interaction

    monkeypatch.setattr(service.notifications, "get_interaction", lambda *_: Interaction())
    monkeypatch.setattr(
        service.notifications,
        "record_display",
        lambda nid, did, *, at, expires_at: Interaction(displayed_at=at),
    )
    monkeypatch.setattr(service, "_announce", lambda *args: reported.append(("announce", args)))

    answer = service.report(
        NOTIFICATION, _url_token(NOTIFICATION, DEVICE), InteractionReport(event="displayed")
    )

    assert (answer.notification_id, answer.device_id) == (NOTIFICATION, DEVICE)
    assert answer.displayed_at is not None
    assert (answer.clicked_at, answer.clicked_action) == (None, None)
    assert reported[0] == ("slot", f"interact#{NOTIFICATION}")
    assert reported[1][0] == "announce"
    assert reported[1][1][3] == ["displayed"]


# ---------------------------------------------------------------- what each push carries


@dataclass
class Sender:
    sent: list[Any] = field(default_factory=list)

    async def send(self, *args: Any, **kwargs: Any) -> Outcome:
        self.sent.append(kwargs if kwargs else args)
        return Outcome.delivered(201)


@dataclass
class Runtime:
    fcm: Sender = field(default_factory=Sender)
    webpush: Sender = field(default_factory=Sender)


APP = AppKeys(
    app_id="demo",
    active=True,
    user_issuer="https://users.example",
    wants_receipts=True,
    vapid_key=object(),  # type: ignore[arg-type]
    vapid_subject="mailto:ops@pushgate.dev",
    fcm_account=object(),  # type: ignore[arg-type]
    loaded_at=0,
)
PUSH = ApprovalPush(
    approval_id="apr_" + "0" * 26,
    actions=[
        ApprovalAction(id="approve", label="Approve"),
        ApprovalAction(id="deny", label="Deny"),
    ],
)


def _job(**fields: Any) -> DeliveryJob:
    values = {
        "notification_id": NOTIFICATION,
        "app_id": "demo",
        "user_id": "alice",
        "message": MessageContent(title="t", body="b", data={"k": "v"}),
        "created_at": 0,
        "expires_at": 4_000_000_000,
    }
    return DeliveryJob(**(values | fields))


def _dispatch(job: DeliveryJob, address: Any, monkeypatch) -> Runtime:
    monkeypatch.setattr(dispatch, "encode_payload", lambda document: document)
    monkeypatch.setattr(dispatch, "_approval_key", lambda approval_id: KEY)
    monkeypatch.setenv("PUSHGATE_PUBLIC_API_URL", "https://api.example/")
    settings.get_settings.cache_clear()
    rt = Runtime()
    try:
        asyncio.run(dispatch.send(rt, job, APP, address, DEVICE))  # type: ignore[arg-type]
    finally:
        monkeypatch.delenv("PUSHGATE_PUBLIC_API_URL")
        settings.get_settings.cache_clear()
    return rt


def _expected_url(kms) -> str:
    key = capabilities.notification_key(NOTIFICATION)
    return interactions.interactions_url("https://api.example", NOTIFICATION, key, DEVICE)


@pytest.mark.parametrize("approval", [None, PUSH], ids=["notification", "approval"])
def test_every_web_push_payload_carries_the_devices_interactions_url(monkeypatch, kms, approval):
    rt = _dispatch(_job(approval=approval), WebPushAddress("https://push.example/1"), monkeypatch)
    (sent,) = rt.webpush.sent
    document = sent["payload"]

    assert document["interactions"] == _expected_url(kms)
    assert document["notification_id"] == NOTIFICATION
    assert ("approval" in document) is (approval is not None)


def test_every_fcm_message_carries_it_as_a_data_field(monkeypatch, kms):
    rt = _dispatch(_job(), FcmAddress("t" * 40), monkeypatch)
    ((_, _, message),) = rt.fcm.sent

    assert message.data == {"k": "v", "interactions_url": _expected_url(kms)}


def test_pushgates_own_pushes_carry_no_interactions_url(monkeypatch, kms):
    replacement = _job(
        approval=ApprovalPush(approval_id=PUSH.approval_id, status="approved"), receipts=False
    )

    web = _dispatch(replacement, WebPushAddress("https://push.example/1"), monkeypatch)
    fcm = _dispatch(replacement, FcmAddress("t" * 40), monkeypatch)

    assert "interactions" not in web.webpush.sent[0]["payload"]
    assert "interactions_url" not in fcm.fcm.sent[0][2].data
    assert kms == []


# ---------------------------------------------------------------- the receipt


def test_an_interaction_receipt_is_queued_and_read_back_with_its_type():
    receipt = InteractionReceipt(
        notification_id=NOTIFICATION,
        app_id="demo",
        user_id="alice",
        device_id=DEVICE,
        platform="web",
        event="clicked",
        action="reply",
        timestamp="2026-12-01T12:00:00.000Z",
    )

    read = ReceiptMessage.model_validate_json(ReceiptMessage(receipt=receipt).model_dump_json())

    assert read.receipt == receipt
    assert read.receipt.model_dump()["type"] == "interaction"


def test_each_event_of_each_device_has_a_webhook_id_of_its_own():
    def receipt(event: str, device_id: str = DEVICE) -> InteractionReceipt:
        return InteractionReceipt(
            notification_id=NOTIFICATION,
            app_id="demo",
            user_id="alice",
            device_id=device_id,
            platform="web",
            event=event,  # type: ignore[arg-type]
            action=None,
            timestamp="t",
        )

    delivery = Receipt(
        notification_id=NOTIFICATION,
        user_id="alice",
        device_id=DEVICE,
        app_id="demo",
        platform="web",
        status="delivered",
        error=None,
        timestamp="t",
    )
    ids = {
        receipt("displayed").webhook_id(),
        receipt("clicked").webhook_id(),
        receipt("displayed", OTHER_DEVICE).webhook_id(),
        delivery.webhook_id(),
    }

    assert len(ids) == 4
    assert receipt("clicked").webhook_id() == receipt("clicked").webhook_id()
