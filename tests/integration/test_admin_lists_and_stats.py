"""The operators' lists and an app's delivery statistics, in process against the emulator:
GET /push/apps and GET /push/instances page exactly (over an Apps table of the test's own, so
every app on it is known), refuse forged cursors and everyone but admins; GET
/push/stats/{app_id} answers exactly `hours` hours, counts what the deliver function's real
handler reached, and costs one counter write per app per invocation."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.cfn import load_template
from local.context import LambdaContext
from pushgate import aws, clock, settings
from pushgate.apps.listing import list_apps
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import get_app_config, update_app_config
from pushgate.apps.stats import app_stats, recent_hours
from pushgate.auth import Principal
from pushgate.devices.models import RegisterDeviceRequest
from pushgate.devices.service import register_device
from pushgate.errors import PushgateError
from pushgate.notifications.models import DeliveryJob, MessageContent
from pushgate.storage import counters
from pushgate.storage import instances as enrolments
from pushgate.storage.cursors import encode_cursor
from pushgate.storage.instances import Enrolment
from pushgate.takos import instances
from tests.integration.lambdas import fresh_queues, load_handler, sqs_event
from tests.integration.test_iam_grants_cover_calls import dynamodb_requests
from tests.standins import WebPushStandin

REPO = Path(__file__).resolve().parents[2]
ISSUER = "https://issuer.test"
ADMIN = Principal("admin", "ops", ISSUER, frozenset({"push:admin"}))


def _service(app_id: str, scopes: str = "push:config") -> Principal:
    return Principal("service", app_id, ISSUER, frozenset(scopes.split()))


def _user(name: str, app_id: str) -> Principal:
    return Principal("user", name, ISSUER, frozenset(), (app_id,))


def _refusal(call) -> tuple[int, str]:
    with pytest.raises(PushgateError) as refused:
        call()
    return refused.value.status, refused.value.code


@pytest.fixture
def own_apps_table(pushgate_env, monkeypatch) -> Iterator[str]:
    """An Apps table of the test's own, made from template.yaml's AppsTable, as
    APPS_TABLE_NAME: the listing sees exactly the apps the test makes."""
    properties = load_template(REPO / "template.yaml")["Resources"]["AppsTable"]["Properties"]
    dynamodb = aws.client("dynamodb")
    name = f"apps-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
    )
    monkeypatch.setenv("APPS_TABLE_NAME", name)
    settings.get_settings.cache_clear()
    yield name
    settings.get_settings.cache_clear()
    dynamodb.delete_table(TableName=name)


def _app(**config: Any) -> str:
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True, **config))
    return app_id


def _enrol(name: str) -> None:
    enrolment = Enrolment(
        domain=name, tenant=None, enabled=True, daily_quota=None, push_secret_sealed=None
    )
    enrolments.put(name, enrolment, now=clock.rfc3339())


def _pages(list_page, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = list_page(limit, cursor)
        pages.append(page[0])
        cursor = page[1]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"


def _app_pages(limit: int) -> list[list[str]]:
    def one(limit, cursor):
        page = list_apps(ADMIN, limit=limit, cursor=cursor)
        return [app.app_id for app in page.apps], page.next_cursor

    return _pages(one, limit)


def _instance_pages(limit: int) -> list[list[str]]:
    def one(limit, cursor):
        page = instances.list_instances(ADMIN, limit=limit, cursor=cursor)
        return [entry.instance for entry in page.instances], page.next_cursor

    return _pages(one, limit)


# ------------------------------------------------------------------ GET /push/apps


def test_apps_listing_pages_exactly_and_skips_enrolments(own_apps_table):
    apps = {_app() for _ in range(5)}
    _enrol("skipped.example")

    by_two, by_five, by_six = _app_pages(2), _app_pages(5), _app_pages(6)

    assert [len(page) for page in by_two] == [2, 2, 1]
    assert sorted(i for page in by_two for i in page) == sorted(apps)
    assert [sorted(page) for page in by_five] == [sorted(apps)]  # full last page: no cursor
    assert [sorted(page) for page in by_six] == [sorted(apps)]


def test_apps_listing_shows_each_apps_settings_and_usage(own_apps_table, pushgate_env):
    app_id = _app(daily_quota=7)
    register_device(
        _user("alice", app_id),
        RegisterDeviceRequest(app_id=app_id, platform="android", push_token="t" * 140),
    )
    key = counters.daily_quota_key(app_id, clock.utc_day())
    assert counters.reserve(key, 3, limit=7, expires_at=int(clock.epoch()) + 86_400)
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(suspended=True))
    config = get_app_config(ADMIN, app_id)

    (listed,) = list_apps(ADMIN, limit=25, cursor=None).apps

    assert listed.model_dump() == {
        "app_id": app_id,
        "enabled": True,
        "suspended": True,
        "daily_quota": 7,
        "device_count": 1,
        "notifications_today": 3,
        "created_at": config.created_at,
        "updated_at": config.updated_at,
    }


def test_apps_listing_is_for_admins_only(own_apps_table):
    app_id = _app()

    assert _refusal(lambda: list_apps(_service(app_id), limit=5, cursor=None)) == (
        403,
        "insufficient_scope",
    )
    assert _refusal(lambda: list_apps(_user("alice", app_id), limit=5, cursor=None)) == (
        403,
        "insufficient_scope",
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        "bm90IGpzb24",  # base64 of "not json"
        base64.urlsafe_b64encode(b'["a"]').decode(),
        encode_cursor("a", "instance#skipped.example"),  # into the enrolments
        encode_cursor("a", "../other"),
        encode_cursor("d", "dev_" + "a" * 32),  # a devices cursor
        encode_cursor("i", "social.example"),  # an instances cursor
    ],
)
def test_apps_listing_refuses_a_cursor_it_did_not_hand_out(own_apps_table, cursor):
    _app()

    assert _refusal(lambda: list_apps(ADMIN, limit=5, cursor=cursor)) == (400, "invalid_cursor")


# ------------------------------------------------------------------ GET /push/instances


def test_instances_listing_pages_exactly_with_the_get_body_of_each(own_apps_table):
    names = [f"i{n}-{uuid.uuid4().hex[:6]}.example" for n in range(3)]
    for name in names:
        _enrol(name)
    _app()  # apps are not enrolments
    instances.bind_tenant(enrolments.get(names[0]), None)  # one with a tenant app

    pages = _instance_pages(2)
    (whole,) = [instances.list_instances(ADMIN, limit=3, cursor=None)]

    assert [len(page) for page in pages] == [2, 1]
    assert sorted(n for page in pages for n in page) == sorted(names)
    assert whole.next_cursor is None
    assert [entry.model_dump() for entry in whole.instances] == [
        instances.get_instance(ADMIN, entry.instance).model_dump() for entry in whole.instances
    ]
    assert {e.instance: e.tenant_app_id for e in whole.instances}[names[0]] == f"takos:{names[0]}"


def test_instances_listing_is_for_admins_only_and_checks_its_cursor(own_apps_table):
    app_id = _app()
    _enrol("one.example")

    assert _refusal(lambda: instances.list_instances(_service(app_id), limit=5, cursor=None)) == (
        403,
        "insufficient_scope",
    )
    assert _refusal(
        lambda: instances.list_instances(ADMIN, limit=5, cursor=encode_cursor("a", app_id))
    ) == (400, "invalid_cursor")
    assert _refusal(
        lambda: instances.list_instances(ADMIN, limit=5, cursor=encode_cursor("i", "UPPER"))
    ) == (400, "invalid_cursor")


# ------------------------------------------------------------------ GET /push/stats/{app_id}


@pytest.mark.parametrize("hours", [1, 24, 48])
def test_stats_of_a_quiet_app_are_hours_of_zeros(pushgate_env, hours):
    app_id = _app()

    stats = app_stats(ADMIN, app_id, hours=hours)

    assert stats.app_id == app_id
    assert [entry.hour for entry in stats.hours] == recent_hours(hours)
    assert [entry.model_dump(exclude={"hour"}) for entry in stats.hours] == [
        {"delivered": 0, "failed": 0, "invalid_token": 0, "expired": 0}
    ] * hours


def test_stats_authorization_is_the_config_routes(pushgate_env):
    app_id, other = _app(), _app()

    assert app_stats(_service(app_id), app_id, hours=2).app_id == app_id
    for caller in (_service(other), _service(app_id, "push:send"), _user("alice", app_id)):
        refused = _refusal(lambda caller=caller: app_stats(caller, app_id, hours=2))
        assert refused == _refusal(lambda caller=caller: get_app_config(caller, app_id))
        assert refused[0] == 403
    assert _refusal(lambda: app_stats(ADMIN, "app-unknown-" + uuid.uuid4().hex, hours=2)) == (
        404,
        "not_found",
    )


@pytest.fixture
def queues(pushgate_env, monkeypatch) -> Iterator[dict[str, str]]:
    yield from fresh_queues(monkeypatch)


def _register(app_id: str, user: str, subscription: dict[str, Any]) -> str:
    request = RegisterDeviceRequest(app_id=app_id, platform="web", push_token=subscription)
    return register_device(_user(user, app_id), request).device_id


def _job(app_id: str, user: str, *, expired: bool = False) -> str:
    now = clock.epoch()
    return DeliveryJob(
        notification_id="ntf_" + uuid.uuid4().hex[:26],
        app_id=app_id,
        user_id=user,
        message=MessageContent(title="t", body="b"),
        created_at=now - 60,
        expires_at=now - 1 if expired else now + 600,
    ).model_dump_json(exclude_none=True)


def _stats_writes(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [
        params["Key"]["counter_key"]["S"]
        for operation, params in calls
        if operation == "UpdateItem" and params["Key"]["counter_key"]["S"].startswith("stats#")
    ]


def test_stats_count_each_outcome_the_deliver_handler_reached(queues):
    app_id = _app()
    with WebPushStandin() as webpush:
        _register(app_id, "ok", webpush.new_subscription())
        _register(app_id, "ok", webpush.new_subscription())
        _register(app_id, "gone", webpush.new_subscription(behaviour=410))
        _register(app_id, "big", webpush.new_subscription(behaviour=413))
        _register(app_id, "late", webpush.new_subscription())
        jobs = [_job(app_id, "ok"), _job(app_id, "gone"), _job(app_id, "big")]
        jobs.append(_job(app_id, "late", expired=True))

        result = load_handler("deliver")(sqs_event(jobs), LambdaContext())

    assert result == {"batchItemFailures": []}
    hours = app_stats(ADMIN, app_id, hours=2).hours
    counted = [entry.model_dump(exclude={"hour"}) for entry in hours]
    expected = {"delivered": 2, "failed": 1, "invalid_token": 1, "expired": 1}
    zeros = dict.fromkeys(expected, 0)
    # All in the hour the invocation finished: the current one (the one before if the hour
    # turned since).
    assert counted in ([zeros, expected], [expected, zeros])
    assert hours[-1].hour == clock.utc_hour()


def test_stats_of_a_batch_of_ten_jobs_are_one_write_per_app(queues):
    shop, news = _app(), _app()
    with WebPushStandin() as webpush:
        for app_id in (shop, news):
            for n in range(5):
                _register(app_id, f"user-{n}", webpush.new_subscription())
        jobs = [_job(app_id, f"user-{n}") for app_id in (shop, news) for n in range(5)]
        handler = load_handler("deliver")

        with dynamodb_requests() as calls:
            result = handler(sqs_event(jobs), LambdaContext())

    assert result == {"batchItemFailures": []}
    writes = _stats_writes(calls)
    hour = writes[0].rsplit("#", 1)[1]
    assert sorted(writes) == sorted([f"stats#{shop}#{hour}", f"stats#{news}#{hour}"])
    for app_id in (shop, news):
        assert sum(entry.delivered for entry in app_stats(ADMIN, app_id, hours=2).hours) == 5
