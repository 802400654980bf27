"""The trust model end to end, through the local stack and its two development issuers: the
default one (trusted for every role) and the second one (`user` and `service` only). Every
cross-issuer attack is refused with its exact status and changes nothing; a user is
`(issuer, sub)`, so one issuer's `alice` never receives another's notifications."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.standins.webhook import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]

SECOND = "second"


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _second_issuer(api: Api) -> str:
    return api.stack.dev_issuer(SECOND).issuer_url


def _state(api: Api, app_id: str) -> dict:
    config = api.config(app_id).json()
    devices = api.request("GET", f"/push/devices/{app_id}", api.admin).json()
    return {"config": config, "devices": devices}


# ---------------------------------------------------------------- roles per issuer


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/push/config/APP", {"daily_quota": 1, "suspended": True}),
        ("GET", "/push/config/APP", None),
        ("GET", "/push/devices/APP", None),
        ("POST", "/push/config/APP/webhook-secret/rotate", None),
        ("PUT", "/push/instances/i-trust.example", {"domain": "i.example", "enabled": True}),
        ("POST", "/push/send/bulk?app_id=APP", {"user_ids": ["alice"], "title": "t", "body": "b"}),
    ],
)
def test_trust_second_issuer_admin_token_is_refused_on_admin_routes(api, method, path, body):
    app_id = api.new_app()
    before = _state(api, app_id)
    token = api.token("ops", scope="push:admin", issuer=SECOND)
    response = api.request(method, path.replace("APP", app_id), token, json=body)
    assert _error(response) == (403, "role_not_trusted")
    assert _state(api, app_id) == before
    enrolment = api.request("GET", "/push/instances/i-trust.example", api.admin)
    assert enrolment.status_code == 404


def test_trust_default_issuer_admin_token_still_administers(api):
    app_id = api.new_app()
    response = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"daily_quota": 9})
    assert response.status_code == 200, response.text
    assert response.json()["issuer"] == api.stack.issuer_url


# ---------------------------------------------------------------- service tokens per app


def test_trust_second_issuer_service_token_cannot_send_or_configure_another_issuers_app(
    delivery,  # noqa: F811
):
    api = delivery.api
    app_id = api.new_app()
    device = delivery.register(app_id, "alice", "android", delivery.fcm_token())
    before = _state(api, app_id)
    token = api.token(app_id, scope="push:send push:config", issuer=SECOND)
    send = {"user_id": "alice", "title": "t", "body": "b"}
    bulk = {"user_ids": ["alice"], "title": "t", "body": "b"}
    sends = [
        api.request("POST", "/push/send", token, json=send),
        api.request("POST", "/push/send/bulk", token, json=bulk),
        api.request("POST", "/push/send/batch", token, json={"notifications": [send]}),
    ]
    configs = [
        api.request("PATCH", f"/push/config/{app_id}", token, json={"webhook_url": None}),
        api.request("GET", f"/push/config/{app_id}", token),
        api.request("POST", f"/push/config/{app_id}/webhook-secret/rotate", token),
        api.request("GET", f"/push/devices/{app_id}", token),
    ]
    deleted = api.request("DELETE", f"/push/devices/{device}", token)

    assert [_error(r) for r in sends + configs] == [(403, "issuer_not_trusted")] * 7
    assert _error(deleted) == (404, "not_found")
    assert _state(api, app_id) == before


def test_trust_second_issuer_service_token_cannot_read_another_issuers_notifications(api):
    app_id = api.new_app()
    sent = api.request(
        "POST",
        "/push/send",
        api.token(app_id, scope="push:send"),
        json={"user_id": "nobody", "title": "t", "body": "b"},
    )
    assert sent.status_code == 202, sent.text
    path = f"/push/notifications/{sent.json()['notification_id']}"
    token = api.token(app_id, scope="push:send", issuer=SECOND)
    assert _error(api.request("GET", path, token)) == (404, "not_found")
    assert api.request("GET", path, api.token(app_id, scope="push:send")).status_code == 200


def test_trust_an_app_belongs_to_the_issuer_whose_service_token_created_it(api):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    second = api.token(app_id, scope="push:config push:send", issuer=SECOND)
    created = api.request("PATCH", f"/push/config/{app_id}", second, json={"enabled": True})
    assert created.status_code == 200, created.text
    assert (created.json()["issuer"], created.json()["user_issuer"]) == (
        _second_issuer(api),
        _second_issuer(api),
    )
    first = api.token(app_id, scope="push:config push:send")
    before = _state(api, app_id)
    refused = api.request("PATCH", f"/push/config/{app_id}", first, json={"daily_quota": 5})
    assert _error(refused) == (403, "issuer_not_trusted")
    assert _state(api, app_id) == before


def test_trust_an_operator_may_list_further_service_issuers_on_an_app(api):
    app_id = api.new_app()
    token = api.token(app_id, scope="push:send", issuer=SECOND)
    body = {"user_id": "nobody", "title": "t", "body": "b"}
    assert _error(api.request("POST", "/push/send", token, json=body)) == (
        403,
        "issuer_not_trusted",
    )
    listed = api.request(
        "PATCH",
        f"/push/config/{app_id}",
        api.admin,
        json={"service_issuers": [_second_issuer(api)]},
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["service_issuers"] == [_second_issuer(api)]
    assert api.request("POST", "/push/send", token, json=body).status_code == 202


def test_trust_service_issuers_must_be_trusted_for_service_tokens(api):
    app_id = api.new_app()
    before = _state(api, app_id)
    for issuers in (["https://unknown.example"], [api.stack.issuer_url, "nope"]):
        response = api.request(
            "PATCH", f"/push/config/{app_id}", api.admin, json={"service_issuers": issuers}
        )
        assert _error(response) == (400, "unknown_issuer")
    assert _state(api, app_id) == before


# ---------------------------------------------------------------- users are (issuer, sub)


def _register(api: Api, app_id: str, token: str, push_token: str) -> httpx.Response:
    return api.request(
        "POST",
        "/push/devices/register",
        token,
        json={"app_id": app_id, "platform": "android", "push_token": push_token},
    )


def test_trust_users_of_another_issuer_cannot_register_with_an_app(delivery):  # noqa: F811
    api = delivery.api
    app_id = api.new_app()
    before = _state(api, app_id)
    token = api.token("alice", aud=[app_id], issuer=SECOND)
    refused = _register(api, app_id, token, delivery.fcm_token())
    assert _error(refused) == (403, "wrong_issuer")
    assert _state(api, app_id) == before


def test_trust_a_send_to_alice_never_reaches_another_issuers_alice(delivery):  # noqa: F811
    api = delivery.api
    app_id = api.new_app()
    # Given the second issuer's alice registered a device while that issuer named the app's
    # users, and the app then went back to the default issuer, whose alice has a device too
    patch = {"user_issuer": _second_issuer(api)}
    assert api.request("PATCH", f"/push/config/{app_id}", api.admin, json=patch).status_code == 200
    theirs = delivery.fcm_token()
    second_alice = api.token("alice", aud=[app_id], issuer=SECOND)
    assert _register(api, app_id, second_alice, theirs).status_code == 201
    back = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"user_issuer": None})
    assert back.json()["user_issuer"] == api.stack.issuer_url
    ours = delivery.fcm_token()
    ours_id = delivery.register(app_id, "alice", "android", ours)
    # When the app sends to alice
    sent = delivery.send(app_id, user_id="alice", title="t", body="b")
    assert sent.status_code == 202, sent.text
    status = delivery.wait_final(app_id, sent.json()["notification_id"], devices=1)
    time.sleep(1.0)  # nothing else is on its way
    # Then only the default issuer's alice got it
    assert [d["device_id"] for d in status["deliveries"]] == [ours_id]
    assert len([m for m in delivery.fcm.received() if m.token == ours]) == 1
    assert [m for m in delivery.fcm.received() if m.token == theirs] == []
    # And each alice sees her own devices only
    mine = api.request("GET", "/account/devices", api.token("alice", aud=[app_id])).json()
    their = api.request("GET", "/account/devices", second_alice).json()
    assert [
        d["device_id"] for a in mine["apps"] if a["app_id"] == app_id for d in a["devices"]
    ] == [ours_id]
    assert [a["app_id"] for a in their["apps"]] == [app_id]
    assert [d["device_id"] for d in their["apps"][0]["devices"]] != [ours_id]


def test_trust_user_issuer_must_be_trusted_for_user_tokens(api):
    app_id = api.new_app()
    response = api.request(
        "PATCH", f"/push/config/{app_id}", api.admin, json={"user_issuer": "https://nope.example"}
    )
    assert _error(response) == (400, "unknown_issuer")
    assert api.config(app_id).json()["user_issuer"] == api.stack.issuer_url


# ---------------------------------------------------------------- operator controls


def test_trust_tenant_may_raise_its_quota_only_up_to_the_operators_cap(api):
    app_id = api.new_app()
    own = api.token(app_id, scope="push:config")
    cap = api.config(app_id).json()["max_daily_quota"]
    above = api.request("PATCH", f"/push/config/{app_id}", own, json={"daily_quota": cap + 1})
    assert _error(above) == (403, "quota_above_max")
    at_cap = api.request("PATCH", f"/push/config/{app_id}", own, json={"daily_quota": cap})
    assert at_cap.status_code == 200, at_cap.text
    assert at_cap.json()["daily_quota"] == cap


@pytest.mark.parametrize(
    "body",
    [
        {"max_daily_quota": 100_000_000},
        {"suspended": False},
        {"service_issuers": []},
        {"enabled": True, "max_daily_quota": 5},
    ],
)
def test_trust_tenant_cannot_set_operator_fields(api, body):
    app_id = api.new_app()
    before = _state(api, app_id)
    own = api.token(app_id, scope="push:config")
    response = api.request("PATCH", f"/push/config/{app_id}", own, json=body)
    assert _error(response) == (403, "admin_only_field")
    assert _state(api, app_id) == before


def test_trust_operator_cap_below_the_quota_limits_sends(api):
    app_id = api.new_app(daily_quota=10)
    capped = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"max_daily_quota": 2})
    assert (capped.json()["daily_quota"], capped.json()["max_daily_quota"]) == (10, 2)
    sender = api.token(app_id, scope="push:send")
    body = {"user_ids": ["a", "b", "c"], "title": "t", "body": "b"}
    assert _error(api.request("POST", "/push/send/bulk", sender, json=body)) == (
        429,
        "quota_exceeded",
    )
    body["user_ids"] = ["a", "b"]
    assert api.request("POST", "/push/send/bulk", sender, json=body).status_code == 202


def test_trust_a_suspended_app_takes_nothing_even_when_its_tenant_enables_it(delivery):  # noqa: F811
    api = delivery.api
    app_id = api.new_app()
    own = api.token(app_id, scope="push:config push:send")
    suspended = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"suspended": True})
    assert suspended.json()["suspended"] is True
    enabled = api.request("PATCH", f"/push/config/{app_id}", own, json={"enabled": True})
    assert (enabled.status_code, enabled.json()["suspended"]) == (200, True)

    send = api.request("POST", "/push/send", own, json={"user_id": "a", "title": "t", "body": "b"})
    token = api.token("alice", aud=[app_id])
    register = _register(api, app_id, token, delivery.fcm_token())
    key = api.request("GET", f"/push/vapid-public-key/{app_id}")
    assert (_error(send), _error(register)) == ((403, "app_suspended"), (403, "app_suspended"))
    assert key.status_code == 404

    resumed = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"suspended": False})
    assert resumed.json()["suspended"] is False
    again = api.request("POST", "/push/send", own, json={"user_id": "a", "title": "t", "body": "b"})
    assert again.status_code == 202


@pytest.mark.parametrize("change", [{"suspended": True}, {"enabled": False}])
def test_trust_queued_jobs_of_a_disabled_or_suspended_app_fail_without_sending(
    delivery,  # noqa: F811
    change,
):
    api = delivery.api
    with WebhookReceiver() as receiver:
        hook = receiver.new_url()
        app_id = api.new_app(webhook_url=hook)
        tokens = [delivery.fcm_token(), delivery.fcm_token()]
        devices = {delivery.register(app_id, "alice", "android", t) for t in tokens}
        assert (
            api.request("PATCH", f"/push/config/{app_id}", api.admin, json=change).status_code
            == 200
        )
        # A job accepted before the change, still on the queue when it came.
        now = time.time()
        notification_id = "ntf_" + uuid.uuid4().hex[:26]
        job = {
            "notification_id": notification_id,
            "app_id": app_id,
            "user_id": "alice",
            "message": {"title": "t", "body": "b"},
            "created_at": now,
            "expires_at": now + 600,
        }
        stack = api.stack
        stack.client("sqs").send_message(
            QueueUrl=stack.resources["DeliveryQueue"], MessageBody=json.dumps(job)
        )
        status = delivery.wait_final(app_id, notification_id, devices=2)
        assert {(d["device_id"], d["status"], d["error"]) for d in status["deliveries"]} == {
            (device, "failed", "app_disabled") for device in devices
        }
        deadline = time.monotonic() + 30
        while len(receiver.calls(hook)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        receipts = [call.json() for call in receiver.calls(hook)]
    assert sorted((r["device_id"], r["status"], r["error"]) for r in receipts) == sorted(
        (device, "failed", "app_disabled") for device in devices
    )
    assert [m for m in delivery.fcm.received() if m.token in tokens] == []
