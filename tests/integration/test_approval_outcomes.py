"""Approval outcomes in-process, where time and the queues can be controlled: exactly one of a
decision and an expiry wins, a timeout that comes early waits again, a receipt the queue
refused is sent by the timeout worker, and a failed step leaves no approval behind."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate import clock
from pushgate.approvals import capabilities, handler, service
from pushgate.approvals.models import ApprovalRequest, ApprovalTimeout
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.devices.models import RegisterDeviceRequest
from pushgate.devices.service import register_device
from pushgate.errors import GoneError, QuotaExceededError
from pushgate.storage import approvals as records

ISSUER = "https://issuer.test"
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(
        ADMIN, app_id, AppConfigPatchRequest(enabled=True, webhook_url="http://127.0.0.1:9/h")
    )
    return app_id


@pytest.fixture
def queues(own_queue):
    """The timeout and receipt queues of the test's own (nothing else reads them)."""
    return own_queue("APPROVAL_TIMEOUT_QUEUE_URL"), own_queue("RECEIPT_QUEUE_URL")


def _service(app_id: str) -> Principal:
    return Principal("service", app_id, ISSUER, frozenset({"push:send"}))


def _device(app_id: str, user: str) -> str:
    token = "apr-" + uuid.uuid4().hex + ":APA91b" + "d" * 100
    principal = Principal("user", user, ISSUER, frozenset(), (app_id,))
    request = RegisterDeviceRequest(app_id=app_id, platform="android", push_token=token)
    return register_device(principal, request).device_id


def _ask(app_id: str, user: str = "alice", timeout: int = 10) -> str:
    request = ApprovalRequest(user_id=user, title="t", body="b", timeout_seconds=timeout)
    return service.create(_service(app_id), request).approval_id


def _token(approval_id: str, device_id: str, action: int = 0) -> str:
    return capabilities.decision_token(capabilities.approval_key(approval_id), device_id, action)


def _later(monkeypatch, seconds: float) -> None:
    now = clock.epoch()
    monkeypatch.setattr(clock, "_source", lambda: now + seconds)


def _timeout(approval_id: str) -> SQSRecord:
    """The timeout worker's record for the approval, as SQS gives it once the delay ran out
    (the test moves pushgate's clock instead of waiting for it)."""
    return SQSRecord({"body": ApprovalTimeout(approval_id=approval_id).model_dump_json()})


def _spy_sends(monkeypatch) -> list:
    sent: list = []
    original = service.send_all
    monkeypatch.setattr(
        service, "send_all", lambda url, messages: sent.extend(messages) or original(url, messages)
    )
    return sent


def test_the_timeout_is_scheduled_with_the_requests_timeout(app_id, queues, monkeypatch):
    _device(app_id, "alice")
    sent = _spy_sends(monkeypatch)

    approval_id = _ask(app_id, timeout=42)

    assert [m.delay_seconds for m in sent if approval_id in m.body] == [42]


def test_an_early_timeout_schedules_itself_again_and_changes_nothing(app_id, queues, monkeypatch):
    _, receipts = queues
    _device(app_id, "alice")
    _later(monkeypatch, 0)  # stops the clock: the new delay is exact
    approval_id = _ask(app_id, timeout=600)
    sent = _spy_sends(monkeypatch)
    _later(monkeypatch, 100)

    asyncio.run(handler.handle_record(_timeout(approval_id)))

    assert records.get(approval_id).status == "pending"
    assert [m.delay_seconds for m in sent] == [500]
    assert receipts.take() == []


def test_after_the_timeout_the_worker_expires_it_once_and_reports_it(app_id, queues, monkeypatch):
    _, receipts = queues
    _device(app_id, "alice")
    approval_id = _ask(app_id)
    _later(monkeypatch, 11)

    asyncio.run(handler.handle_record(_timeout(approval_id)))
    asyncio.run(handler.handle_record(_timeout(approval_id)))  # SQS may deliver it twice
    reported = [json.loads(r.body)["receipt"] for r in receipts.take()]

    assert records.get(approval_id).status == "expired"
    assert [(r["type"], r["approval_id"], r["status"]) for r in reported] == [
        ("approval", approval_id, "expired")
    ]


def test_a_decision_after_the_expiry_loses_and_an_expiry_after_a_decision_loses(
    app_id, queues, monkeypatch
):
    device_id = _device(app_id, "alice")
    expired_first, decided_first = _ask(app_id), _ask(app_id)
    service.decide(decided_first, _token(decided_first, device_id))
    _later(monkeypatch, 11)

    service.expire_due(expired_first)
    service.expire_due(decided_first)
    with pytest.raises(GoneError) as late:
        service.decide(expired_first, _token(expired_first, device_id))

    assert late.value.code == "approval_expired"
    assert records.get(expired_first).status == "expired"
    assert records.get(decided_first).status == "approved"


def test_a_pending_approval_past_its_expiry_reads_as_expired_before_the_worker_runs(
    app_id, queues, monkeypatch
):
    _device(app_id, "alice")
    approval_id = _ask(app_id)
    _later(monkeypatch, 11)

    read = service.status(_service(app_id), approval_id)

    assert (read.status, read.approved) == ("expired", False)
    assert records.get(approval_id).status == "pending"  # the worker writes it


def test_a_receipt_the_queue_refused_is_sent_by_the_timeout_worker(app_id, queues, monkeypatch):
    _, receipts = queues
    device_id = _device(app_id, "alice")
    approval_id = _ask(app_id)
    with monkeypatch.context() as refusing:
        original = service.send_all
        refusing.setattr(
            service,
            "send_all",
            lambda url, m: list(m) if url == receipts.url else original(url, m),
        )
        decided = service.decide(approval_id, _token(approval_id, device_id))
    unreported = records.get(approval_id).reported
    _later(monkeypatch, 11)

    asyncio.run(handler.handle_record(_timeout(approval_id)))
    reported = [json.loads(r.body)["receipt"] for r in receipts.take()]

    assert decided.status == "approved"
    assert unreported is False
    assert [(r["approval_id"], r["status"]) for r in reported] == [(approval_id, "approved")]
    assert records.get(approval_id).reported is True


def test_a_refused_send_keeps_no_approval(app_id, queues, monkeypatch):
    _device(app_id, "alice")
    kept = []
    original = records.put
    monkeypatch.setattr(records, "put", lambda a: kept.append(a.approval_id) or original(a))
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(daily_quota=1))
    _ask(app_id)

    with pytest.raises(QuotaExceededError):
        _ask(app_id)

    assert records.get(kept[0]).status == "pending"
    assert records.get(kept[1]) is None
