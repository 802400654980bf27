"""Interaction reports in-process against the emulator, where the queues and the order of
events can be controlled: the first display and the first click win (also when reports
race), each first event is one receipt, a click records the display it implies, a report
that comes before the delivery's outcome is kept, and a notification's reports are rate
limited."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from pushgate import settings
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.delivery.service import deliver
from pushgate.devices.models import RegisterDeviceRequest
from pushgate.devices.service import register_device
from pushgate.errors import NotFoundError, TooManyRequestsError
from pushgate.interactions import capabilities, service
from pushgate.interactions.models import InteractionReport
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.notifications.service import Recipient, accept, notification_status
from tests.standins import WebPushStandin

ISSUER = "https://issuer.test"
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))
DISPLAYED = InteractionReport(event="displayed")


@pytest.fixture
def queues(own_queue):
    """The delivery and receipt queues of the test's own: the stack's workers stay out."""
    return own_queue("DELIVERY_QUEUE_URL"), own_queue("RECEIPT_QUEUE_URL")


@pytest.fixture
def webpush():
    with WebPushStandin() as standin:
        yield standin


def _app(*, webhook: bool = True) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    patch = AppConfigPatchRequest(enabled=True, webhook_url="http://127.0.0.1:9/h")
    update_app_config(ADMIN, app_id, patch)
    if not webhook:
        update_app_config(ADMIN, app_id, AppConfigPatchRequest(webhook_url=None))
    return app_id


def _device(app_id: str, webpush: WebPushStandin, user: str = "alice") -> str:
    principal = Principal("user", user, ISSUER, frozenset(), (app_id,))
    request = RegisterDeviceRequest(
        app_id=app_id, platform="web", push_token=webpush.new_subscription()
    )
    return register_device(principal, request).device_id


def _send(app_id: str, queues, user: str = "alice") -> tuple[str, DeliveryJob]:
    """Accepted, its job taken off the test's delivery queue: not delivered yet."""
    (notification_id,) = accept(app_id, [Recipient(user, MessageContent(title="t", body="b"))])
    (record,) = queues[0].take()
    return notification_id, DeliveryJob.model_validate_json(record.body)


def _delivered(app_id: str, queues, user: str = "alice") -> str:
    notification_id, job = _send(app_id, queues, user)
    asyncio.run(deliver(job))
    queues[1].take()  # the delivery receipts
    return notification_id


def _token(notification_id: str, device_id: str) -> str:
    return capabilities.interaction_token(capabilities.notification_key(notification_id), device_id)


def _receipts(queues) -> list[dict]:
    return [json.loads(record.body)["receipt"] for record in queues[1].take()]


def _status(app_id: str, notification_id: str) -> dict:
    owner = Principal("service", app_id, ISSUER, frozenset({"push:send"}))
    return notification_status(owner, notification_id).model_dump()


def test_the_first_display_is_kept_and_reported_once(queues, webpush):
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)
    token = _token(notification_id, device_id)

    first = service.report(notification_id, token, DISPLAYED)
    again = service.report(notification_id, token, DISPLAYED)
    (receipt,) = _receipts(queues)
    (entry,) = _status(app_id, notification_id)["deliveries"]

    assert first == again
    assert first.displayed_at is not None
    assert (first.clicked_at, first.clicked_action) == (None, None)
    assert receipt == {
        "type": "interaction",
        "notification_id": notification_id,
        "app_id": app_id,
        "user_id": "alice",
        "device_id": device_id,
        "platform": "web",
        "event": "displayed",
        "action": None,
        "timestamp": first.displayed_at,
    }
    assert (entry["status"], entry["displayed_at"], entry["clicked_at"]) == (
        "delivered",
        first.displayed_at,
        None,
    )


def test_the_first_click_is_kept_with_its_action_and_later_ones_change_nothing(queues, webpush):
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)
    token = _token(notification_id, device_id)

    shown = service.report(notification_id, token, DISPLAYED)
    clicked = service.report(
        notification_id, token, InteractionReport(event="clicked", action="reply")
    )
    other = service.report(notification_id, token, InteractionReport(event="clicked"))
    late_display = service.report(notification_id, token, DISPLAYED)
    receipts = _receipts(queues)

    assert clicked.displayed_at == shown.displayed_at
    assert clicked.clicked_action == "reply"
    assert clicked.clicked_at is not None
    assert other == late_display == clicked
    assert [(r["event"], r["action"]) for r in receipts] == [
        ("displayed", None),
        ("clicked", "reply"),
    ]
    assert receipts[1]["timestamp"] == clicked.clicked_at


def test_a_click_without_a_display_records_and_reports_both(queues, webpush):
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)

    clicked = service.report(
        notification_id, _token(notification_id, device_id), InteractionReport(event="clicked")
    )
    receipts = _receipts(queues)

    assert clicked.displayed_at == clicked.clicked_at is not None
    assert clicked.clicked_action is None
    assert [(r["event"], r["timestamp"]) for r in receipts] == [
        ("displayed", clicked.displayed_at),
        ("clicked", clicked.clicked_at),
    ]


def test_concurrent_reports_record_each_event_once_and_send_one_receipt_each(queues, webpush):
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)
    token = _token(notification_id, device_id)
    reports = [DISPLAYED] * 4 + [
        InteractionReport(event="clicked", action=f"a{i}") for i in range(4)
    ]
    barrier = threading.Barrier(len(reports))

    def report(event: InteractionReport):
        barrier.wait()
        return service.report(notification_id, token, event)

    with ThreadPoolExecutor(len(reports)) as pool:
        answers = list(pool.map(report, reports))
    final = service.report(notification_id, token, DISPLAYED)
    receipts = _receipts(queues)

    assert sorted(r["event"] for r in receipts) == ["clicked", "displayed"]
    assert {a.displayed_at for a in answers} == {final.displayed_at}
    assert final.clicked_action in {f"a{i}" for i in range(4)}
    assert [r["action"] for r in receipts if r["event"] == "clicked"] == [final.clicked_action]
    # every click's answer shows the one click recorded
    assert {(a.clicked_at, a.clicked_action) for a in answers[4:]} == {
        (final.clicked_at, final.clicked_action)
    }


def test_a_display_reported_before_the_outcome_is_written_is_kept(queues, webpush):
    """A device reports the display as soon as the push arrives, before the deliver
    function has written the delivery's outcome (and the notification's own item)."""
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id, job = _send(app_id, queues)

    early = service.report(notification_id, _token(notification_id, device_id), DISPLAYED)
    queued = _status(app_id, notification_id)
    asyncio.run(deliver(job))
    (entry,) = _status(app_id, notification_id)["deliveries"]
    receipts = _receipts(queues)

    assert queued["deliveries"] == []
    assert (entry["status"], entry["displayed_at"]) == ("delivered", early.displayed_at)
    interaction = next(r for r in receipts if r["type"] == "interaction")
    assert (interaction["event"], interaction["platform"]) == ("displayed", "web")


def test_another_devices_url_and_another_notifications_are_not_found(queues, webpush):
    app_id = _app()
    device_id = _device(app_id, webpush)
    other_device = _device(app_id, webpush, user="bob")
    notification_id = _delivered(app_id, queues)
    other_notification = _delivered(app_id, queues)

    mac = _token(notification_id, device_id)[32:]
    tries = [
        (notification_id, other_device.removeprefix("dev_") + mac),  # alice's MAC, bob's device
        (notification_id, _token(other_notification, device_id)),
        ("ntf_" + "0" * 26, _token("ntf_" + "0" * 26, device_id)),  # never sent
    ]
    refused = []
    for nid, token in tries:
        with pytest.raises(NotFoundError) as caught:
            service.report(nid, token, DISPLAYED)
        refused.append((caught.value.status, caught.value.code))

    assert refused == [(404, "interaction_not_found")] * 3
    assert _receipts(queues) == []
    assert _status(app_id, notification_id)["deliveries"][0]["displayed_at"] is None


def test_without_a_webhook_reports_are_recorded_and_no_receipt_is_queued(queues, webpush):
    app_id = _app(webhook=False)
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)

    shown = service.report(notification_id, _token(notification_id, device_id), DISPLAYED)

    assert shown.displayed_at is not None
    assert _receipts(queues) == []


def test_a_notifications_reports_are_rate_limited(queues, webpush, monkeypatch):
    monkeypatch.setenv("PUSHGATE_MAX_DEVICES_PER_USER", "1")
    settings.get_settings.cache_clear()
    app_id = _app()
    device_id = _device(app_id, webpush)
    notification_id = _delivered(app_id, queues)
    token = _token(notification_id, device_id)
    limit = service.REPORTS_PER_DEVICE * 1 + service.SPARE_REPORTS

    for _ in range(limit):
        service.report(notification_id, token, DISPLAYED)
    with pytest.raises(TooManyRequestsError) as refused:
        service.report(notification_id, token, DISPLAYED)

    assert refused.value.status == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 3600
