"""The device registry over HTTP: every platform form, dedupe, rate limit, isolation."""

from __future__ import annotations

import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

pytestmark = pytest.mark.e2e


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fcm_token() -> str:
    return "fcm" + uuid.uuid4().hex + ":APA91b" + "x" * 120


def subscription(host: str = "http://127.0.0.1:9/push/", keys: bool = True) -> dict:
    value = {"endpoint": host + uuid.uuid4().hex}
    if keys:
        point = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        )
        value["keys"] = {"p256dh": _b64(point), "auth": _b64(uuid.uuid4().bytes)}
    return value


PLATFORM_FORMS = {
    "android": lambda: ("android", fcm_token()),
    "ios": lambda: ("ios", fcm_token()),
    "web-fcm": lambda: ("web", fcm_token()),
    "web-push-object": lambda: ("web", subscription()),
    "web-push-string": lambda: ("web", json.dumps(subscription())),
    "web-push-keyless": lambda: ("web", subscription(keys=False)),
    "ntfy": lambda: (
        "ntfy",
        {"url": f"http://127.0.0.1:9/t{uuid.uuid4().hex[:8]}", "token": "tk_x"},
    ),
}


def register(api, app_id, user, platform, token, **extra):
    return api.request(
        "POST",
        "/push/devices/register",
        api.token(user, aud=[app_id]),
        json={"app_id": app_id, "platform": platform, "push_token": token, **extra},
    )


@pytest.mark.parametrize("form", sorted(PLATFORM_FORMS))
def test_devices_register_list_account_delete_round_trip(api, form):
    app_id = api.new_app()
    platform, token = PLATFORM_FORMS[form]()
    user = f"user-{uuid.uuid4().hex[:8]}"

    created = register(api, app_id, user, platform, token, user_agent="Firefox/140")
    device_id = created.json()["device_id"]
    listed = api.request("GET", f"/push/devices/{app_id}", api.admin).json()
    account = api.request("GET", "/account/devices", api.token(user, aud=[app_id])).json()
    deleted = api.request("DELETE", f"/push/devices/{device_id}", api.token(user, aud=[app_id]))
    after = api.request("GET", f"/push/devices/{app_id}", api.admin).json()

    assert created.status_code == 201, created.text
    assert [d["device_id"] for d in listed["devices"]] == [device_id]
    assert listed["devices"][0]["platform"] == platform
    assert listed["total"] == 1
    assert account["apps"] == [{"app_id": app_id, "devices": listed["devices"]}]
    assert "push_token" not in json.dumps(listed) + json.dumps(account)
    assert deleted.status_code == 204
    assert (after["devices"], after["total"]) == ([], 0)


def test_devices_reregistration_returns_same_device_and_moves_user(api):
    app_id = api.new_app()
    token = fcm_token()
    first = register(api, app_id, "alice", "android", token)
    again = register(api, app_id, "bob", "android", token, user_agent="new")
    listed = api.request("GET", f"/push/devices/{app_id}", api.admin).json()
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert listed["total"] == 1
    assert listed["devices"][0]["user_id"] == "bob"
    assert listed["devices"][0]["last_seen_at"] >= listed["devices"][0]["created_at"]


def test_devices_concurrent_registrations_of_one_token_make_one_device(api):
    app_id = api.new_app()
    token = fcm_token()
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda i: register(api, app_id, f"user-{i}", "android", token), range(8))
        )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["device_id"] for r in responses}) == 1
    assert api.config(app_id).json()["device_count"] == 1


def test_devices_eleventh_registration_in_an_hour_is_429(api):
    app_id = api.new_app()
    statuses = [
        register(api, app_id, "carol", "android", fcm_token()).status_code for _ in range(10)
    ]
    refused = register(api, app_id, "carol", "android", fcm_token())
    other_user = register(api, app_id, "dave", "android", fcm_token())
    assert statuses == [201] * 10
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 3500 <= int(refused.headers["retry-after"]) <= 3600
    assert other_user.status_code == 201
    assert api.config(app_id).json()["device_count"] == 11


def _assert_refused(api, app_id, response, status, code=None):
    assert response.status_code == status, response.text
    if code:
        assert response.json()["error"]["code"] == code
    assert api.request("GET", f"/push/devices/{app_id}", api.admin).json()["total"] == 0


def test_devices_refuse_token_for_another_audience(api):
    app_id = api.new_app()
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token("erin", aud=["some-other-app"]),
        json={"app_id": app_id, "platform": "android", "push_token": fcm_token()},
    )
    _assert_refused(api, app_id, response, 403, "wrong_audience")


def test_devices_refuse_disabled_and_unknown_apps(api):
    app_id = api.new_app()
    api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"enabled": False})
    disabled = register(api, app_id, "erin", "android", fcm_token())
    unknown = register(api, "never-configured", "erin", "android", fcm_token())
    _assert_refused(api, app_id, disabled, 403, "push_disabled")
    assert unknown.status_code == 403
    assert unknown.json()["error"]["code"] == "push_disabled"


def test_devices_refuse_service_tokens_on_register(api):
    app_id = api.new_app()
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token(app_id, scope="push:send"),
        json={"app_id": app_id, "platform": "android", "push_token": fcm_token()},
    )
    _assert_refused(api, app_id, response, 403)


def _bad_keys():
    good = subscription()
    return [
        {**good, "keys": {**good["keys"], "p256dh": _b64(b"\x04" + b"\x00" * 64)}},
        {**good, "keys": {**good["keys"], "p256dh": _b64(b"\x02" + b"\x11" * 32)}},
        {**good, "keys": {**good["keys"], "auth": _b64(b"0123")}},
        {**good, "keys": {**good["keys"], "auth": "!!!not-base64!!!"}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"]}},
    ]


@pytest.mark.parametrize(
    ("platform", "token"),
    [
        ("blackberry", fcm_token()),
        ("android", "x" * 5000),
        ("android", "tiny"),
        ("ios", "has spaces " * 10),
        ("web", "{broken json"),
        ("ntfy", {"url": "http://127.0.0.1:9/a/b"}),
        ("ntfy", {"url": "http://127.0.0.1:9/t", "extra": True}),
        *[("web", keys) for keys in _bad_keys()],
    ],
)
def test_devices_refuse_malformed_tokens_and_store_nothing(api, platform, token):
    app_id = api.new_app()
    response = register(api, app_id, "frank", platform, token)
    _assert_refused(api, app_id, response, 400)
    assert "x" * 100 not in response.text


@pytest.mark.parametrize(
    ("platform", "token"),
    [
        ("web", {"endpoint": "http://fcm.googleapis.com/fcm/send/abc"}),
        ("web", {"endpoint": "https://127.0.0.1/push/abc"}),
        ("web", {"endpoint": "https://10.0.0.8/push/abc"}),
        ("web", {"endpoint": "https://push.attacker.example/abc"}),
        ("ntfy", {"url": "https://127.0.0.1/topic"}),
        ("ntfy", {"url": "https://192.168.0.2/topic"}),
        ("ntfy", {"url": "https://localhost/topic"}),
        ("ntfy", {"url": "http://ntfy.sh/topic"}),
    ],
)
def test_devices_refuse_unsafe_push_urls_under_production_rules(strict_api, platform, token):
    app_id = strict_api.new_app()
    response = register(strict_api, app_id, "gina", platform, token)
    _assert_refused(strict_api, app_id, response, 400, "unsafe_url")


def test_devices_accept_allow_listed_push_service_under_production_rules(strict_api):
    app_id = strict_api.new_app()
    token = subscription(host="https://updates.push.services.mozilla.com/wpush/v2/")
    assert register(strict_api, app_id, "gina", "web", token).status_code == 201


def test_devices_local_stack_keeps_the_web_push_allow_list_for_public_hosts(api):
    app_id = api.new_app()
    public = register(api, app_id, "gina", "web", subscription(host="https://evil.example/push/"))
    loopback = register(api, app_id, "gina", "web", subscription(host="http://127.0.0.1:9/push/"))

    assert public.status_code == 400, public.text
    assert public.json()["error"] == {
        "code": "unsafe_url",
        "message": "push_token.endpoint is not on a known push service",
    }
    assert loopback.status_code == 201, loopback.text


def test_devices_user_cannot_see_or_delete_another_users_device(api):
    app_id = api.new_app()
    device_id = register(api, app_id, "hank", "android", fcm_token()).json()["device_id"]
    intruder = api.token("ivy", aud=[app_id])
    deleted = api.request("DELETE", f"/push/devices/{device_id}", intruder)
    account = api.request("GET", "/account/devices", intruder).json()
    listed = api.request("GET", f"/push/devices/{app_id}", intruder)
    assert deleted.status_code == 404
    assert account == {"apps": []}
    assert listed.status_code == 403
    assert api.config(app_id).json()["device_count"] == 1


def test_devices_app_service_token_cannot_touch_another_apps_devices(api):
    app_x, app_y = api.new_app(), api.new_app()
    device_y = register(api, app_y, "jill", "android", fcm_token()).json()["device_id"]
    token_x = api.token(app_x, scope="push:send push:config")
    assert api.request("DELETE", f"/push/devices/{device_y}", token_x).status_code == 404
    assert api.request("GET", f"/push/devices/{app_y}", token_x).status_code == 403
    own = api.request("DELETE", f"/push/devices/{device_y}", api.token(app_y, scope="push:send"))
    assert own.status_code == 204


def test_devices_unknown_device_is_404(api):
    missing = "dev_" + "a" * 32
    assert api.request("DELETE", f"/push/devices/{missing}", api.admin).status_code == 404


def test_devices_listing_pages_with_an_opaque_cursor(api):
    app_id = api.new_app()
    ids = {
        register(api, app_id, f"u{i}", "android", fcm_token()).json()["device_id"] for i in range(5)
    }
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.request("GET", f"/push/devices/{app_id}", api.admin, params=params).json()
        seen += [d["device_id"] for d in page["devices"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert pages == 3
    assert page["total"] == 5


def test_devices_cursor_cannot_page_into_another_app(api):
    app_x, app_y = api.new_app(), api.new_app()
    for i in range(3):
        register(api, app_x, f"x{i}", "android", fcm_token())
    y_device = register(api, app_y, "y", "android", fcm_token()).json()["device_id"]
    cursor = api.request("GET", f"/push/devices/{app_x}", api.admin, params={"limit": 1}).json()[
        "next_cursor"
    ]
    crossed = api.request(
        "GET", f"/push/devices/{app_y}", api.admin, params={"cursor": cursor}
    ).json()
    assert all(d["device_id"] == y_device for d in crossed["devices"])
    forged = base64.urlsafe_b64encode(b'{"d": "../app-x"}').decode()
    bad = api.request("GET", f"/push/devices/{app_x}", api.admin, params={"cursor": forged})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"


def test_devices_table_holds_no_token_in_plaintext(api):
    app_id = api.new_app()
    tokens = [fcm_token(), json.dumps(subscription()), "tk_ntfy_secret_" + uuid.uuid4().hex]
    register(api, app_id, "kim", "android", tokens[0])
    register(api, app_id, "kim", "web", tokens[1])
    register(api, app_id, "kim", "ntfy", {"url": "http://127.0.0.1:9/kimtopic", "token": tokens[2]})
    dynamodb = api.stack.client("dynamodb")
    table = api.stack.environment()["DEVICES_TABLE_NAME"]
    items = json.dumps(dynamodb.scan(TableName=table)["Items"])
    assert app_id in items
    endpoint = json.loads(tokens[1])["endpoint"]
    for secret in (
        tokens[0],
        endpoint,
        json.loads(tokens[1])["keys"]["auth"],
        tokens[2],
        "kimtopic",
    ):
        assert secret not in items
