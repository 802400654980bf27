"""The DynamoDB requests each function's code makes, checked against the grants template.yaml
gives that function, conditions included. The emulator enforces no IAM, so without this a
write naming one more attribute than a `dynamodb:Attributes` list allows would pass every
test here and be refused in AWS."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest import mock

import botocore.client
import pytest

from local.context import LambdaContext
from pushgate import clock, settings
from pushgate.approvals import capabilities
from pushgate.approvals import service as approvals
from pushgate.approvals.models import ApprovalRequest
from pushgate.apps.listing import list_apps
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import (
    get_app_config,
    get_public_vapid_key,
    rotate_webhook_secret,
    update_app_config,
)
from pushgate.apps.stats import app_stats
from pushgate.auth import Principal
from pushgate.broadcasts import fanout
from pushgate.broadcasts import service as broadcasts
from pushgate.broadcasts.models import BroadcastPage, BroadcastRequest
from pushgate.delivery import tally
from pushgate.delivery.service import deliver
from pushgate.devices.models import RegisterDeviceRequest
from pushgate.devices.service import (
    delete_device,
    list_account_devices,
    list_app_devices,
    register_device,
)
from pushgate.errors import ConflictError
from pushgate.interactions import capabilities as interaction_capabilities
from pushgate.interactions import service as interactions
from pushgate.interactions.models import InteractionReport
from pushgate.managed_ntfy import handler as ntfy_cleanup
from pushgate.managed_ntfy import service as managed_ntfy_service
from pushgate.notifications.idempotency import run_once
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.notifications.service import (
    Recipient,
    accept,
    new_notification_ids,
    notification_status,
)
from pushgate.receipts.service import _disable_webhook, _load_app
from pushgate.storage import instances as enrolments
from pushgate.storage.apps import AppRecord
from pushgate.storage.instances import Enrolment, Instance
from pushgate.storage.nonces import claim_event, event_key, release_event
from pushgate.takos import instances
from tests.standins import WebPushStandin
from tests.unit.test_template_iam import function_grants

ISSUER = "https://issuer.test"
# Apps it creates name ISSUER as theirs, so ISSUER's users and services act on them.
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))
_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_KEYS = {
    "AppsTable": "app_id",
    "DevicesTable": "device_id",
    "CountersTable": "counter_key",
    "BroadcastsTable": "broadcast_key",
}


@contextlib.contextmanager
def dynamodb_requests() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB API call made meanwhile, by any client: (operation, parameters)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls.append((operation, params))
        return original(client, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", record):
        yield calls


def _item_requests(
    calls: list[tuple[str, dict[str, Any]]], tables: dict[str, str]
) -> Iterator[tuple[str, str, set[str], str | None]]:
    """(action, resource, attribute names, partition key value) per item a call touches;
    a transaction's items each need their own action."""
    for operation, params in calls:
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, item),) = entry.items()
                yield _item("dynamodb:" + _ITEM_ACTIONS[kind], item, tables)
        elif operation == "BatchGetItem":
            for table in params["RequestItems"]:
                yield "dynamodb:BatchGetItem", tables[table], set(), None
        elif operation == "Query":
            yield (
                "dynamodb:Query",
                f"{tables[params['TableName']]}/index/{params['IndexName']}",
                set(),
                None,
            )
        elif operation == "Scan":
            index = f"/index/{params['IndexName']}" if "IndexName" in params else ""
            yield "dynamodb:Scan", tables[params["TableName"]] + index, set(), None
        else:
            yield _item(f"dynamodb:{operation}", params, tables)


def _item(
    action: str, params: dict[str, Any], tables: dict[str, str]
) -> tuple[str, str, set[str], str | None]:
    table = tables[params["TableName"]]
    key = params.get("Key") or params.get("Item") or {}
    names = set(key) | set((params.get("ExpressionAttributeNames") or {}).values())
    partition = key.get(_KEYS.get(table, ""), {}).get("S")
    return action, table, names, partition


def _allowed(condition: Any, names: set[str], partition: str | None) -> bool:
    if condition is None:
        return True
    for operator, tests in condition.items():
        for key, values in tests.items():
            if (operator, key) == ("ForAllValues:StringEquals", "dynamodb:Attributes"):
                if not names <= set(values):
                    return False
            elif (operator, key) == ("ForAllValues:StringLike", "dynamodb:LeadingKeys"):
                if partition is None or not any(fnmatch.fnmatch(partition, v) for v in values):
                    return False
            else:
                raise AssertionError(f"no evaluator for {operator} {key}")
    return True


def _refused(function: str, calls: list[tuple[str, dict[str, Any]]], tables: dict[str, str]):
    grants = function_grants(function)
    refused = []
    for action, resource, names, partition in _item_requests(calls, tables):
        conditions = grants.get((action, resource))
        if conditions is None or not any(_allowed(c, names, partition) for c in conditions):
            refused.append((action, resource, sorted(names), partition))
    return refused


@pytest.fixture
def tables(pushgate_env, local_stack) -> dict[str, str]:
    """Physical table name -> logical id."""
    return {
        name: logical_id
        for logical_id, name in local_stack.resources.items()
        if logical_id.endswith("Table")
    }


@pytest.fixture
def app_id(pushgate_env) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    return app_id


def _user(name: str, app_id: str) -> Principal:
    return Principal("user", name, ISSUER, frozenset(), (app_id,))


def _register(app_id: str, user: str, token: Any, platform: str = "web") -> str:
    request = RegisterDeviceRequest(app_id=app_id, platform=platform, push_token=token)
    return register_device(_user(user, app_id), request).device_id


def test_iam_config_function_grants_cover_its_requests(tables, app_id):
    with dynamodb_requests() as calls:
        update_app_config(
            ADMIN,
            app_id,
            AppConfigPatchRequest(
                daily_quota=5, vapid_subject="mailto:ops@pushgate.dev", webhook_url=None
            ),
        )
        get_app_config(ADMIN, app_id)
        rotate_webhook_secret(ADMIN, app_id)
        get_public_vapid_key(app_id)
        list_app_devices(ADMIN, app_id, limit=10, cursor=None)
        first = list_apps(ADMIN, limit=1, cursor=None)
        list_apps(ADMIN, limit=2, cursor=first.next_cursor)
        app_stats(ADMIN, app_id, hours=48)

    assert {op for op, _ in calls} >= {"Scan", "BatchGetItem"}
    assert _refused("ConfigFunction", calls, tables) == []


def test_iam_config_function_grants_cover_listing_instances(tables, pushgate_env):
    enrolled = _instance(f"l{uuid.uuid4().hex[:8]}.example")
    instances.bind_tenant(enrolled, None)  # so the listing reads its tenant app's counts
    _instance(f"l{uuid.uuid4().hex[:8]}.example")
    with dynamodb_requests() as calls:
        first = instances.list_instances(ADMIN, limit=1, cursor=None)
        instances.list_instances(ADMIN, limit=2, cursor=first.next_cursor)

    assert [op for op, _ in calls].count("Scan") == 2
    assert _refused("ConfigFunction", calls, tables) == []


def test_iam_register_and_unregister_grants_cover_their_requests(tables, app_id):
    token = "iam-" + uuid.uuid4().hex + ":APA91b" + "t" * 100
    with dynamodb_requests() as registering:
        device_id = _register(app_id, "alice", token, "android")
        _register(app_id, "bob", token, "android")  # the same token again: moved to bob
        list_account_devices(_user("bob", app_id))
    with dynamodb_requests() as unregistering:
        delete_device(_user("bob", app_id), device_id)

    assert _refused("RegisterFunction", registering, tables) == []
    assert _refused("UnregisterFunction", unregistering, tables) == []
    assert [op for op, _ in unregistering] == ["GetItem", "TransactWriteItems"]


def test_iam_send_function_grants_cover_its_requests(tables, app_id):
    content = MessageContent(title="t", body="b")
    with dynamodb_requests() as calls:
        (notification_id,) = run_once(
            app_id=app_id,
            key=uuid.uuid4().hex,
            body={"user_id": "alice"},
            operation=lambda: accept(app_id, [Recipient("alice", content)]),
            lambda_context=LambdaContext(remaining_ms=29_000),  # type: ignore[arg-type]
        )
        notification_status(
            Principal("service", app_id, ISSUER, frozenset({"push:send"})), notification_id
        )

    assert _refused("SendFunction", calls, tables) == []


def test_iam_deliver_function_grants_cover_its_requests(tables, app_id):
    with WebPushStandin() as webpush:
        gone = webpush.new_subscription(behaviour=410)
        fine = webpush.new_subscription()
        _register(app_id, "alice", gone)
        fine_id = _register(app_id, "alice", fine)
        now = clock.epoch()
        job = DeliveryJob(
            notification_id="ntf_" + uuid.uuid4().hex[:26],
            app_id=app_id,
            user_id="alice",
            message=MessageContent(title="t", body="b"),
            created_at=now,
            expires_at=now + 600,
        )
        with dynamodb_requests() as calls:
            first = asyncio.run(deliver(job))
            retry = job.model_copy(update={"attempt": 1, "device_ids": [fine_id]})
            asyncio.run(deliver(retry, redelivered=True))

    assert sorted(result.final for result in first) == ["delivered", "invalid_token"]
    assert {op for op, _ in calls} >= {"Query", "TransactWriteItems", "BatchGetItem"}
    assert any(
        op == "UpdateItem" and params["Key"]["counter_key"]["S"].startswith(f"stats#{app_id}#")
        for op, params in calls
    )
    assert _refused("DeliverFunction", calls, tables) == []


def test_iam_receipts_function_grants_cover_its_requests(tables, app_id):
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(webhook_url="http://127.0.0.1:9/hook"))
    with dynamodb_requests() as calls:
        app = _load_app(app_id)
        assert app is not None
        _disable_webhook(app)

    assert AppRecord.get(app_id).webhook_disabled_at is not None
    assert _refused("ReceiptsFunction", calls, tables) == []


def test_iam_check_refuses_an_attribute_off_the_list(tables, app_id):
    """The checker itself: a device_count write that also sets `enabled` is refused for
    the deliver function, as IAM would refuse it."""
    with dynamodb_requests() as calls:
        AppRecord(app_id).update(
            actions=[AppRecord.device_count.add(0), AppRecord.enabled.set(True)]
        )

    assert _refused("DeliverFunction", calls, tables) == [
        ("dynamodb:UpdateItem", "AppsTable", ["app_id", "device_count", "enabled"], app_id)
    ]


def test_iam_register_grants_cover_trimming_a_user_beyond_the_device_cap(
    tables, app_id, monkeypatch
):
    monkeypatch.setenv("PUSHGATE_MAX_DEVICES_PER_USER", "1")
    settings.get_settings.cache_clear()
    tokens = ["iam-" + uuid.uuid4().hex + ":APA91b" + "c" * 100 for _ in range(2)]
    with dynamodb_requests() as calls:
        for token in tokens:
            _register(app_id, "carol", token, "android")

    assert len(list_account_devices(_user("carol", app_id)).apps[0].devices) == 1
    assert [op for op, _ in calls].count("TransactWriteItems") == 3  # two inserts, one removal
    assert _refused("RegisterFunction", calls, tables) == []


def _instance(name: str, tenant: str | None = None) -> Instance:
    enrolment = Enrolment(
        domain=name, tenant=tenant, enabled=True, daily_quota=None, push_secret_sealed=None
    )
    return enrolments.put(name, enrolment, now=clock.rfc3339())


@pytest.mark.parametrize("function", ["RegisterFunction", "SendFunction"])
def test_iam_gateway_grants_cover_binding_taking_over_and_open_enrolment(
    tables, pushgate_env, function
):
    squatter = _instance(f"s{uuid.uuid4().hex[:8]}.example")
    rightful = _instance(f"r{uuid.uuid4().hex[:8]}.example", tenant=squatter.instance)
    with dynamodb_requests() as calls:
        instances.bind_tenant(squatter, None)
        instances.bind_tenant(rightful, None)  # takes the tenant over, unbinds the squatter
        instances.enrol_on_first_request(f"o{uuid.uuid4().hex[:8]}.example")

    assert AppRecord.get(f"takos:{squatter.instance}").owner_instance == rightful.instance
    assert _refused(function, calls, tables) == []


def test_iam_send_grants_cover_a_takos_events_claim_replay_and_release(tables, app_id):
    key = event_key("social.example", uuid.uuid4().hex)
    (notification_id,) = new_notification_ids(1)
    with dynamodb_requests() as calls:
        assert claim_event(key, notification_id=notification_id, expires_at=2_000_000_000) is None
        earlier = claim_event(key, notification_id="ntf_other", expires_at=2_000_000_000)
        release_event(key, notification_id=notification_id)

    assert earlier == notification_id
    assert _refused("SendFunction", calls, tables) == []


def test_iam_ntfy_function_grants_cover_a_channels_life(tables, managed_ntfy, app_id):
    user = _user("ntfy-user", app_id)
    with dynamodb_requests() as calls:
        managed_ntfy_service.enable(user, app_id)
        managed_ntfy_service.enable(user, app_id)  # exists: returned as it is
        managed_ntfy_service.get(user, app_id)
        managed_ntfy_service.test(user, app_id)
        managed_ntfy_service.disable(user, app_id)

    assert {op for op, _ in calls} >= {"PutItem", "UpdateItem", "TransactWriteItems", "Query"}
    assert _refused("NtfyFunction", calls, tables) == []


def test_iam_ntfy_cleanup_and_device_removals_cover_their_requests(tables, managed_ntfy, app_id):
    users = [_user(f"ntfy-{name}", app_id) for name in ("a", "b")]
    channels = [managed_ntfy_service.enable(user, app_id)[0] for user in users]
    with dynamodb_requests() as unregistering:
        delete_device(users[0], channels[0].device_id)  # queues the channel's removal
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=False))
    with dynamodb_requests() as cleaning:
        for record in managed_ntfy.take_removals():
            asyncio.run(ntfy_cleanup.handle_record(record))

    assert managed_ntfy.accounts() == set()
    assert _refused("UnregisterFunction", unregistering, tables) == []
    assert _refused("NtfyCleanupFunction", cleaning, tables) == []


def test_iam_register_grants_cover_trimming_a_managed_channels_device(
    tables, managed_ntfy, app_id, monkeypatch
):
    monkeypatch.setenv("PUSHGATE_MAX_DEVICES_PER_USER", "1")
    settings.get_settings.cache_clear()
    user = _user("ntfy-trimmed", app_id)
    managed_ntfy_service.enable(user, app_id)
    with dynamodb_requests() as calls:
        _register(
            app_id, "ntfy-trimmed", "iam-" + uuid.uuid4().hex + ":APA91b" + "n" * 100, "android"
        )

    assert len(managed_ntfy.take_removals()) == 1
    assert _refused("RegisterFunction", calls, tables) == []


def test_iam_approval_functions_grants_cover_an_approvals_life(tables, own_queue, app_id):
    own_queue("APPROVAL_TIMEOUT_QUEUE_URL")  # the stack's timeout worker stays out of it
    service = Principal("service", app_id, ISSUER, frozenset({"push:send"}))
    device_id = _register(
        app_id, "ada", "iam-" + uuid.uuid4().hex + ":APA91b" + "a" * 100, "android"
    )
    request = ApprovalRequest(user_id="ada", title="t", body="b", timeout_seconds=10)
    with dynamodb_requests() as asking:
        created = run_once(
            app_id=app_id,
            key=uuid.uuid4().hex,
            body=request.model_dump(mode="json"),
            operation=lambda: approvals.create(service, request).model_dump(mode="json"),
            lambda_context=LambdaContext(remaining_ms=29_000),  # type: ignore[arg-type]
        )
        approvals.create(service, ApprovalRequest(user_id="nobody", title="t", body="b"))
        approvals.status(service, created["approval_id"], wait=0.6)
    approval_id = created["approval_id"]
    key = capabilities.approval_key(approval_id)
    with dynamodb_requests() as deciding:
        approvals.decide(approval_id, capabilities.decision_token(key, device_id, 1))
    pending = approvals.create(service, request).approval_id
    later = clock.epoch() + 11
    previous = clock.set_source(lambda: later)
    try:
        with dynamodb_requests() as expiring:
            approvals.expire_due(pending)
            approvals.expire_due(approval_id)
    finally:
        clock.set_source(previous)

    assert approvals.status(service, pending).status == "expired"
    assert {op for op, _ in asking} >= {"PutItem", "Query", "UpdateItem"}
    assert _refused("ApprovalsFunction", asking, tables) == []
    assert _refused("DecisionsFunction", deciding, tables) == []
    assert _refused("ApprovalTimeoutsFunction", expiring, tables) == []


def test_iam_interactions_and_status_grants_cover_a_reports_life(tables, own_queue, app_id):
    """A report before the delivery's outcome (the registry names the platform), the click,
    a repeat, and the status read that merges them."""
    delivery_queue = own_queue("DELIVERY_QUEUE_URL")
    own_queue("RECEIPT_QUEUE_URL")
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(webhook_url="http://127.0.0.1:9/h"))
    with WebPushStandin() as webpush:
        device_id = _register(app_id, "ivy", webpush.new_subscription())
        (notification_id,) = accept(app_id, [Recipient("ivy", MessageContent(title="t", body="b"))])
        (record,) = delivery_queue.take()
        token = interaction_capabilities.interaction_token(
            interaction_capabilities.notification_key(notification_id), device_id
        )
        with dynamodb_requests() as reporting:
            interactions.report(notification_id, token, InteractionReport(event="displayed"))
        asyncio.run(deliver(DeliveryJob.model_validate_json(record.body)))
        with dynamodb_requests() as clicking:
            interactions.report(notification_id, token, InteractionReport(event="clicked"))
            interactions.report(notification_id, token, InteractionReport(event="clicked"))
        with dynamodb_requests() as reading:
            status = notification_status(
                Principal("service", app_id, ISSUER, frozenset({"push:send"})), notification_id
            )

    assert status.deliveries[0].clicked_at is not None
    assert {op for op, _ in reporting + clicking} >= {"GetItem", "PutItem", "UpdateItem"}
    assert "BatchGetItem" in {op for op, _ in reading}
    assert _refused("InteractionsFunction", reporting + clicking, tables) == []
    assert _refused("SendFunction", reading, tables) == []


def test_iam_broadcast_grants_cover_a_broadcasts_life(tables, own_queue, app_id):
    """Started (and refused while running), a page fanned out that finishes it, its counts
    added by the deliver function, read; another started and cancelled."""

    pages = own_queue("BROADCAST_QUEUE_URL")
    own_queue("DELIVERY_QUEUE_URL")
    _register(app_id, "ada", "iam-" + uuid.uuid4().hex + ":APA91b" + "b" * 100, "android")
    service = Principal("service", app_id, ISSUER, frozenset({"push:send"}))
    request = BroadcastRequest(title="t", body="b")
    with dynamodb_requests() as starting:
        broadcast_id = broadcasts.start(service, app_id, request)
        with pytest.raises(ConflictError):
            broadcasts.start(service, app_id, request)
    (record,) = pages.take()
    with dynamodb_requests() as fanning_out:
        fanout.fan_out(BroadcastPage.model_validate_json(record.body))
    with dynamodb_requests() as counting:
        tally.write_broadcasts({broadcast_id: Counter({"delivered": 1})})
    with dynamodb_requests() as reading:
        shown = broadcasts.status(service, broadcast_id)
        second = broadcasts.start(service, app_id, request)
        broadcasts.cancel(service, second)

    assert (shown.status, shown.reached, shown.by_outcome.delivered) == ("finished", 1, 1)
    assert {op for op, _ in fanning_out} >= {"Query", "TransactWriteItems"}
    assert _refused("SendFunction", starting + reading, tables) == []
    assert _refused("BroadcastFanoutFunction", fanning_out, tables) == []
    assert _refused("DeliverFunction", counting, tables) == []
