"""The console's admin reads over HTTP through the local stack: an app's delivery statistics
after real deliveries to stand-ins, the lists of apps and instances, and who may read them."""

from __future__ import annotations

import time
import uuid

import pytest

from pushgate import clock
from tests.e2e.conftest import Api, Delivery

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


@pytest.fixture(scope="module")
def delivery(delivery_stack: Delivery) -> Delivery:
    return delivery_stack


def _find(api: Api, path: str, key: str, wanted: str) -> tuple[dict, int]:
    """The entry of a paged list whose `key` is `wanted`, and how many pages it took."""
    cursor, pages = None, 0
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        response = api.request("GET", path, api.admin, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        found = [entry for entry in page[path.rsplit("/", 1)[1]] if entry[key] == wanted]
        if found:
            return found[0], pages
        cursor = page["next_cursor"]
        assert cursor, f"{wanted} is not in {path}"


def test_stats_count_the_outcomes_of_deliveries_to_stand_ins(delivery):
    api = delivery.api
    app_id = api.new_app()
    devices = {
        "fine": delivery.webpush.new_subscription(),
        "gone": delivery.webpush.new_subscription(behaviour=410),
        "too-big": delivery.webpush.new_subscription(behaviour=413),
    }
    for subscription in devices.values():
        delivery.register(app_id, "stats-user", "web", subscription)
    sent = delivery.send(app_id, user_id="stats-user", title="t", body="b")
    assert sent.status_code == 202, sent.text
    status = delivery.wait_final(app_id, sent.json()["notification_id"], devices=3)
    assert sorted(d["status"] for d in status["deliveries"]) == [
        "delivered",
        "failed",
        "invalid_token",
    ]

    # The counts are written when the invocation's batch is done, just after the statuses.
    expected = {"delivered": 1, "failed": 1, "invalid_token": 1, "expired": 0}
    deadline = time.monotonic() + 10
    while True:
        response = api.request(
            "GET",
            f"/push/stats/{app_id}",
            api.token(app_id, scope="push:config"),
            params={"hours": 3},
        )
        assert response.status_code == 200, response.text
        stats = response.json()
        totals = {o: sum(entry[o] for entry in stats["hours"]) for o in expected}
        if totals == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert totals == expected
    assert stats["app_id"] == app_id
    assert len(stats["hours"]) == 3
    assert stats["hours"][-1]["hour"] == clock.utc_hour()
    default = api.request("GET", f"/push/stats/{app_id}", api.admin).json()
    assert len(default["hours"]) == 24


def test_stats_refuse_whom_the_config_routes_refuse(delivery):
    api = delivery.api
    app_id, other = api.new_app(), api.new_app()
    callers = {
        "another app's push:config": api.token(other, scope="push:config"),
        "the app's push:send": api.token(app_id, scope="push:send"),
        "a user": api.token("alice", aud=[app_id]),
    }
    for who, token in callers.items():
        stats = api.request("GET", f"/push/stats/{app_id}", token)
        config = api.request("GET", f"/push/config/{app_id}", token)
        assert (stats.status_code, stats.json()["error"]["code"]) == (
            config.status_code,
            config.json()["error"]["code"],
        ), who
        assert stats.status_code == 403, who
    assert api.request("GET", f"/push/stats/{app_id}").status_code == 401
    unknown = api.request("GET", f"/push/stats/app-{uuid.uuid4().hex}", api.admin)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    for hours in ("0", "49", "x"):
        bad = api.request("GET", f"/push/stats/{app_id}", api.admin, params={"hours": hours})
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request"), hours


def test_apps_list_shows_an_app_as_its_config_does(delivery):
    api = delivery.api
    app_id = api.new_app(daily_quota=42)
    config = api.config(app_id).json()

    listed, _ = _find(api, "/push/apps", "app_id", app_id)

    assert listed == {
        "app_id": app_id,
        "enabled": True,
        "suspended": False,
        "daily_quota": 42,
        "device_count": 0,
        "notifications_today": 0,
        "created_at": config["created_at"],
        "updated_at": config["updated_at"],
    }


def test_apps_list_pages_one_at_a_time_without_repeats(delivery):
    api = delivery.api
    api.new_app()
    api.new_app()
    first = api.request("GET", "/push/apps", api.admin, params={"limit": 1}).json()
    second = api.request(
        "GET", "/push/apps", api.admin, params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()

    assert len(first["apps"]) == len(second["apps"]) == 1
    assert first["apps"][0]["app_id"] != second["apps"][0]["app_id"]


@pytest.mark.parametrize("path", ["/push/apps", "/push/instances"])
def test_admin_lists_refuse_everyone_else_and_bad_paging(delivery, path):
    api = delivery.api
    app_id = api.new_app()
    for token in (api.token(app_id, scope="push:config push:send"), api.token("u", aud=[app_id])):
        refused = api.request("GET", path, token)
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            403,
            "insufficient_scope",
        )
    assert api.request("GET", path).status_code == 401
    bad_cursor = api.request("GET", path, api.admin, params={"cursor": "!!"})
    assert (bad_cursor.status_code, bad_cursor.json()["error"]["code"]) == (400, "invalid_cursor")
    for limit in ("0", "101"):
        bad = api.request("GET", path, api.admin, params={"limit": limit})
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_request")


def test_instances_list_entries_are_the_get_bodies(delivery):
    api = delivery.api
    name = f"list-{uuid.uuid4().hex[:8]}.example"
    api.enrol_instance(name, "http://127.0.0.1:9")

    listed, _ = _find(api, "/push/instances", "instance", name)

    assert listed == api.request("GET", f"/push/instances/{name}", api.admin).json()
    assert listed["domain"] == "http://127.0.0.1:9"
