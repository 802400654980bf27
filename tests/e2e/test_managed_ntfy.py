"""Managed private ntfy channels end to end: the local stack against an ntfy stand-in set up as
docs/configuration.md tells an operator to (auth-default-access deny-all, an admin token, a
publisher with write-only access to pg_*). The user subscribes with the credentials pushgate
returns, as the ntfy app would, and the stand-in enforces ntfy's access control."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Api, Delivery
from tests.standins import FcmStandin, NtfyStandin, WebPushStandin
from tests.standins._script import fail_first
from tests.standins.ntfy import PUSHGATE_PUBLISHER

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("managed-ntfy")]
CHANNEL_FIELDS = {"device_id", "server_url", "topic", "topic_url", "username", "password"}


class Managed(Delivery):
    """A stack with managed ntfy channels on `self.ntfy`."""

    def channel(self, method: str, app_id: str, user: str, suffix: str = "") -> httpx.Response:
        token = self.api.token(user, aud=[app_id])
        return self.api.request(method, f"/push/ntfy/{app_id}{suffix}", token)

    def enable(self, app_id: str, user: str) -> dict:
        response = self.channel("POST", app_id, user)
        assert response.status_code == 201, response.text
        return response.json()

    def poll(self, topic: str, username: str, password: str) -> httpx.Response:
        """What the ntfy app subscribed with these credentials would fetch."""
        return httpx.get(
            f"{self.ntfy.url}/{topic}/json", params={"poll": "1"}, auth=(username, password)
        )

    def accounts(self) -> set[str]:
        return {user.username for user in self.ntfy.users() if user.username.startswith("pgu_")}

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def managed(tmp_path_factory) -> Iterator[Managed]:
    with (
        FcmStandin() as fcm,
        WebPushStandin() as webpush,
        NtfyStandin(default_access="deny-all") as ntfy,
    ):
        admin_token, publish_token = ntfy.set_up_for_pushgate()
        env = {
            "PUSHGATE_NTFY_URL": ntfy.url,
            "PUSHGATE_NTFY_ADMIN_TOKEN": admin_token,
            "PUSHGATE_NTFY_PUBLISH_TOKEN": publish_token,
        }
        with LocalStack(env=env, log_dir=tmp_path_factory.mktemp("ntfy-logs")) as stack:
            api = Api(stack)
            yield Managed(api, fcm, webpush, ntfy)
            api.http.close()


def _messages(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_the_credentials_read_the_test_message_and_another_users_do_not(managed):
    app_id = managed.api.new_app()
    alice = managed.enable(app_id, "alice")
    bob = managed.enable(app_id, "bob")

    tested = managed.channel("POST", app_id, "alice", "/test")
    assert tested.status_code == 202, tested.text
    status = managed.wait_final(app_id, tested.json()["notification_id"], devices=1)
    read = managed.poll(alice["topic"], alice["username"], alice["password"])
    refused = managed.poll(alice["topic"], bob["username"], bob["password"])

    assert [d["status"] for d in status["deliveries"]] == ["delivered"]
    assert read.status_code == 200
    assert [(m["title"], m["message"]) for m in _messages(read)] == [
        ("Test notification", "pushgate reaches you on this ntfy channel")
    ]
    assert refused.status_code == 403
    assert refused.json()["code"] == 40301
    assert [m.user for m in managed.ntfy.messages(alice["topic"])] == [PUSHGATE_PUBLISHER]
    assert managed.ntfy.messages(bob["topic"]) == ()


def test_enable_makes_an_account_a_grant_and_a_device_and_then_returns_them(managed):
    app_id = managed.api.new_app()

    channel = managed.enable(app_id, "carol")
    again = managed.channel("POST", app_id, "carol")
    shown = managed.channel("GET", app_id, "carol")
    devices = managed.api.request(
        "GET", "/account/devices", managed.api.token("carol", aud=[app_id])
    ).json()

    assert set(channel) >= CHANNEL_FIELDS
    assert channel["server_url"] == managed.ntfy.url
    assert channel["topic"].startswith("pg_")
    assert len(channel["topic"]) == 35
    assert channel["topic_url"] == f"{managed.ntfy.url}/{channel['topic']}"
    assert (again.status_code, again.json()) == (200, channel)
    assert (shown.status_code, shown.json()) == (200, channel)
    assert [(g.topic, g.permission_name) for g in managed.ntfy.grants(channel["username"])] == [
        (channel["topic"], "read-only")
    ]
    assert managed.ntfy.may(channel["username"], channel["topic"], "write") is False
    assert managed.ntfy.may(None, channel["topic"], "read") is False
    assert [(d["device_id"], d["platform"]) for a in devices["apps"] for d in a["devices"]] == [
        (channel["device_id"], "ntfy")
    ]


def test_disable_removes_the_account_the_grant_and_the_device(managed):
    app_id = managed.api.new_app()
    channel = managed.enable(app_id, "dave")

    removed = managed.channel("DELETE", app_id, "dave")
    shown = managed.channel("GET", app_id, "dave")
    again = managed.channel("DELETE", app_id, "dave")
    sent = managed.send(app_id, user_id="dave", title="after", body="disable")
    managed.wait_queue_drained()
    old_credentials = managed.poll(channel["topic"], channel["username"], channel["password"])

    assert removed.status_code == 204
    assert channel["username"] not in managed.accounts()
    assert managed.ntfy.grants(channel["username"]) == ()
    assert (shown.status_code, shown.json()["error"]["code"]) == (404, "ntfy_channel_not_found")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "ntfy_channel_not_found")
    assert sent.status_code == 202
    assert managed.status(app_id, sent.json()["notification_id"])["deliveries"] == []
    assert managed.ntfy.messages(channel["topic"]) == ()
    assert old_credentials.status_code == 401


@pytest.mark.parametrize("applied", [False, True], ids=["refused", "answer-lost"])
@pytest.mark.parametrize("route", ["PUT /v1/users", "PUT /v1/users/access"])
def test_a_failed_step_takes_back_the_ones_before_it(managed, route, applied):
    app_id = managed.api.new_app()
    user = f"erin-{uuid.uuid4().hex[:6]}"  # GET /account/devices lists every app's
    before = managed.accounts()
    managed.ntfy.script_admin(route, fail_first(1, 500), applied=applied)

    failed = managed.channel("POST", app_id, user)
    shown = managed.channel("GET", app_id, user)
    devices = managed.api.request("GET", "/account/devices", managed.api.token(user, aud=[app_id]))
    retried = managed.channel("POST", app_id, user)

    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "ntfy_unavailable")
    assert (shown.status_code, shown.json()["error"]["code"]) == (404, "ntfy_channel_not_found")
    assert devices.json()["apps"] == []
    assert retried.status_code == 201
    assert managed.accounts() - before == {retried.json()["username"]}


def test_a_failed_undo_is_finished_by_the_cleanup_worker(managed):
    app_id = managed.api.new_app()
    before = managed.accounts()
    managed.ntfy.script_admin("PUT /v1/users/access", fail_first(1, 500))
    managed.ntfy.script_admin("DELETE /v1/users", fail_first(1, 503))

    failed = managed.channel("POST", app_id, "frank")
    managed.wait(lambda: managed.accounts() == before, "the account removed in the background")

    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "ntfy_unavailable")
    assert [c.status for c in managed.ntfy.admin_calls() if c.route == "DELETE /v1/users"][-2:] == [
        503,
        200,
    ]


def test_a_failed_removal_answers_503_and_the_next_one_finishes_it(managed):
    app_id = managed.api.new_app()
    channel = managed.enable(app_id, "grace")
    managed.ntfy.script_admin("DELETE /v1/users", fail_first(1, 500))

    failed = managed.channel("DELETE", app_id, "grace")
    still = channel["username"] in managed.accounts()
    retried = managed.channel("DELETE", app_id, "grace")

    assert (failed.status_code, failed.json()["error"]["code"]) == (503, "ntfy_unavailable")
    assert still is True
    assert retried.status_code == 204
    assert channel["username"] not in managed.accounts()


def test_deleting_the_channels_device_removes_its_account(managed):
    app_id = managed.api.new_app()
    channel = managed.enable(app_id, "heidi")

    deleted = managed.api.request(
        "DELETE", f"/push/devices/{channel['device_id']}", managed.api.token("heidi", aud=[app_id])
    )
    managed.wait(lambda: channel["username"] not in managed.accounts(), "the account removed")
    shown = managed.channel("GET", app_id, "heidi")

    assert deleted.status_code == 204
    assert managed.ntfy.grants(channel["username"]) == ()
    assert shown.status_code == 404


def test_disabling_the_app_removes_every_channel_in_the_background(managed):
    app_id = managed.api.new_app()
    usernames = {managed.enable(app_id, user)["username"] for user in ("ivan", "judy")}

    disabled = managed.api.request(
        "PATCH", f"/push/config/{app_id}", managed.api.admin, json={"enabled": False}
    )
    managed.wait(lambda: not usernames & managed.accounts(), "the app's accounts removed")
    shown = managed.channel("GET", app_id, "ivan")
    enabled_again = managed.channel("POST", app_id, "ivan")

    assert disabled.status_code == 200
    assert (shown.status_code, shown.json()["error"]["code"]) == (404, "ntfy_channel_not_found")
    assert (enabled_again.status_code, enabled_again.json()["error"]["code"]) == (
        403,
        "push_disabled",
    )


def test_only_a_user_of_the_app_may_have_a_channel(managed):
    app_id = managed.api.new_app()
    other_app = managed.api.new_app()
    api = managed.api
    path = f"/push/ntfy/{app_id}"
    before = managed.accounts()

    anonymous = api.request("POST", path)
    wrong_app = api.request("POST", path, api.token("mallory", aud=[other_app]))
    service = api.request("POST", path, api.token(app_id, scope="push:send"))
    second_issuer = api.request("POST", path, api.token("mallory", aud=[app_id], issuer="second"))
    nobody = api.request("GET", path, api.token("mallory", aud=[app_id]))
    untested = api.request("POST", f"{path}/test", api.token("mallory", aud=[app_id]))

    assert anonymous.status_code == 401
    assert (wrong_app.status_code, wrong_app.json()["error"]["code"]) == (403, "wrong_audience")
    assert (service.status_code, service.json()["error"]["code"]) == (403, "forbidden")
    assert (second_issuer.status_code, second_issuer.json()["error"]["code"]) == (
        403,
        "wrong_issuer",
    )
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (404, "ntfy_channel_not_found")
    assert (untested.status_code, untested.json()["error"]["code"]) == (
        404,
        "ntfy_channel_not_found",
    )
    assert managed.accounts() == before


def test_the_channel_user_is_unique_per_app_and_user(managed):
    app_id = managed.api.new_app()
    first = managed.enable(app_id, f"k{uuid.uuid4().hex[:6]}")
    second = managed.enable(app_id, f"k{uuid.uuid4().hex[:6]}")

    assert first["username"] != second["username"]
    assert first["topic"] != second["topic"]
    assert first["password"] != second["password"]
