"""Concurrency over real HTTP: quota reservations, device registrations and gateway nonces are
atomic, so racing requests can neither overshoot a limit nor create anything twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from clients.gateway_client import GatewayClient
from tests.e2e.conftest import Api
from tests.standins.wellknown import WellKnownServer

pytestmark = pytest.mark.e2e


def race(count: int, request: Callable[[int], Any]) -> list[Any]:
    """`count` calls of `request(i)`, released together from `count` threads."""
    start = threading.Barrier(count)

    def call(index: int) -> Any:
        start.wait()
        return request(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def test_concurrency_bulk_sends_never_exceed_the_daily_quota(api: Api):
    # Given an app with a quota of 500 and 50 bulk sends of 20 users each (1,000 in all)
    app_id = api.new_app(daily_quota=500)
    token = api.token(app_id, scope="push:send")

    def bulk(index: int) -> int:
        users = [f"q{index}-{n}" for n in range(20)]
        body = {"user_ids": users, "title": "t", "body": "b"}
        return api.request("POST", "/push/send/bulk", token, json=body).status_code

    # When they race
    statuses = race(50, bulk)

    # Then exactly 500 notifications are accepted, in whole requests, and counted once
    assert Counter(statuses) == {202: 25, 429: 25}
    assert api.config(app_id).json()["notifications_today"] == 500


def test_concurrency_registrations_of_the_same_tokens_make_one_device_each(api: Api):
    # Given 10 tokens, each registered 10 times by two users (5 each: under the 10 per user
    # per hour limit), 100 registrations in all
    app_id = api.new_app()
    tokens = [f"race-{uuid.uuid4().hex}:APA91b" + "r" * 100 for _ in range(10)]
    users = [f"racer-{n}" for n in range(20)]
    user_tokens = {user: api.token(user, aud=[app_id]) for user in users}

    def register(index: int) -> tuple[int, str | None]:
        user = users[index % 20]
        body = {"app_id": app_id, "platform": "android", "push_token": tokens[index % 10]}
        response = api.request("POST", "/push/devices/register", user_tokens[user], json=body)
        device_id = response.json().get("device_id") if response.status_code < 300 else None
        return response.status_code, device_id

    # When they race
    results = race(100, register)

    # Then every registration succeeds, exactly 10 of them create a device, and the
    # maintained count agrees with the table
    assert Counter(status for status, _ in results) == {201: 10, 200: 90}, results
    assert len({device_id for _, device_id in results}) == 10
    assert api.config(app_id).json()["device_count"] == 10
    listed = api.request("GET", f"/push/devices/{app_id}", api.admin, params={"limit": 100})
    assert listed.json()["total"] == 10
    assert len(listed.json()["devices"]) == 10


@pytest.fixture(scope="module")
def wellknown() -> Iterator[WellKnownServer]:
    with WellKnownServer() as server:
        yield server


def test_concurrency_a_replayed_gateway_nonce_is_accepted_once(api: Api, wellknown):
    # Given an enrolled instance whose well-known document is served on 127.0.0.1
    instance = f"race-{uuid.uuid4().hex[:8]}.example"
    client = GatewayClient.generate(instance)
    wellknown.publish(client.wellknown())
    api.enrol_instance(instance, wellknown.origin)
    signed = client.register("rita", f"nonce-{uuid.uuid4().hex}:APA91b" + "n" * 100, "android")

    # When the same signed request (one nonce) arrives 20 times at once
    def post(_: int) -> tuple[int, Any]:
        response = api.request("POST", signed.path, content=signed.body, headers=signed.headers)
        return response.status_code, response.json()

    results = race(20, post)

    # Then exactly one is accepted and every other one is refused as a replay
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 19}, results
    refusals = {body["error"]["code"] for status, body in results if status == 409}
    assert refusals == {"replayed_nonce"}
