"""A takos instance, exactly as the takos source builds its requests (tests/takos.py runs the
ported code in node, WebCrypto keys and all), against the local stack: its registrations and
events reach the FCM stand-in, a deregistration stops delivery, a replayed event is not pushed
twice, and each takos-specific refusal is a 4xx naming its problem."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from clients.gateway_client import GatewayClient
from tests.e2e.conftest import Delivery
from tests.standins.wellknown import WellKnownServer
from tests.takos import Exchange, TakosInstance

pytestmark = [pytest.mark.e2e, pytest.mark.interop, pytest.mark.xdist_group("delivery")]


def fcm_token() -> str:
    return "tk-" + uuid.uuid4().hex + ":APA91b" + "k" * 100


def _error(exchange: Exchange) -> tuple[int, str]:
    return exchange.status, exchange.body["error"]["code"]


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@pytest.fixture
def new_instance(delivery_stack: Delivery) -> Iterator[Callable[..., TakosInstance]]:
    """Takos instances enrolled on the delivery stack, each serving its well-known document
    the way takos does."""
    servers: list[WellKnownServer] = []
    api = delivery_stack.api

    def make(name: str | None = None, **enrolment) -> TakosInstance:
        server = WellKnownServer().start()
        servers.append(server)
        instance = TakosInstance(name or f"T{uuid.uuid4().hex[:10]}.Example", api.stack.api_url)
        server.publish(instance.wellknown())
        enrolled = api.request(
            "PUT",
            f"/push/instances/{instance.instance.lower()}",
            api.admin,
            json={"domain": server.origin, "enabled": True, **enrolment},
        )
        assert enrolled.status_code == 201, enrolled.text
        return instance

    yield make
    for server in servers:
        server.stop()


def _app_id(instance: TakosInstance) -> str:
    return f"takos:{instance.instance.lower()}"


def _delivered_to(delivery: Delivery, token: str) -> list:
    return [m for m in delivery.fcm.delivered() if m.token == token]


def _shown(message) -> tuple[str, str]:
    """The title and body an FCM message puts on the device."""
    notification = message.message["notification"]
    return notification["title"], notification["body"]


def _replay(delivery: Delivery, exchange: Exchange) -> httpx.Response:
    """The same bytes and headers sent again (a captured request replayed)."""
    return delivery.api.http.post(
        "/internal/push/events", content=exchange.sent.encode(), headers=exchange.headers
    )


def test_takos_instance_registers_is_delivered_to_deregisters_and_is_never_pushed_twice(
    delivery_stack, new_instance
):
    delivery = delivery_stack
    instance = new_instance()  # INSTANCE_DOMAIN in mixed case, as an operator may set it
    token = fcm_token()

    # Registration: takos' defaults (platform "unknown", appId ""), signature in the body
    registered = instance.register("alice", token)
    assert registered.status == 201, registered.body
    assert "signature" in registered.payload
    assert set(registered.headers) == {"Content-Type"}
    assert registered.body["registration"]["tenant"] == instance.instance.lower()

    # An event, the later takos version's shape, reaches alice's device
    sent = instance.event(
        "alice", type="comment", message="Carol commented", **{"ref-type": "post", "ref-id": "p1"}
    )
    assert sent.status == 202, sent.body
    notification_id = sent.body["notification_id"]
    status = delivery.wait_final(_app_id(instance), notification_id, devices=1)
    assert [d["status"] for d in status["deliveries"]] == ["delivered"]
    (message,) = _delivered_to(delivery, token)
    assert _shown(message) == ("New comment", "Carol commented")
    assert message.data["takos_notification_id"] == sent.payload["notification"]["id"]
    assert (message.data["type"], message.data["ref_type"], message.data["ref_id"]) == (
        "comment",
        "post",
        "p1",
    )

    # The same event again is the same notification, not a second push
    replayed = _replay(delivery, sent)
    assert (replayed.status_code, replayed.json()) == (200, {"notification_id": notification_id})
    time.sleep(1.0)
    assert len(_delivered_to(delivery, token)) == 1

    # Deregistration (platform "") stops delivery
    deregistered = instance.deregister("alice", token)
    assert deregistered.status == 200, deregistered.body
    assert deregistered.payload["platform"] == ""
    later = instance.event("alice", type="like", message="Bob reacted")
    assert later.status == 202, later.body
    delivery.wait_queue_drained()
    assert delivery.status(_app_id(instance), later.body["notification_id"])["deliveries"] == []
    assert len(_delivered_to(delivery, token)) == 1


@pytest.mark.parametrize("variant", ["old", "mid", "new", "test"])
def test_takos_instance_every_event_version_is_accepted(delivery_stack, new_instance, variant):
    instance = new_instance()
    token = fcm_token()
    assert instance.register("bob", token, platform="android").status == 201
    sent = instance.event("bob", variant=variant, message="hello from takos")
    assert sent.status == 202, sent.body
    delivery_stack.wait_final(_app_id(instance), sent.body["notification_id"], devices=1)
    (message,) = _delivered_to(delivery_stack, token)
    title = "Test notification" if variant == "test" else "New follower"
    assert _shown(message) == (title, "hello from takos")


def test_takos_external_slug_instance_is_enrolled_and_delivered_to(delivery_stack, new_instance):
    instance = new_instance(f"external:demo-{uuid.uuid4().hex[:8]}")
    token = fcm_token()
    registered = instance.register("carol", token)
    assert registered.status == 201, registered.body
    sent = instance.event("carol", type="mention", message="@carol hi")
    assert sent.status == 202, sent.body
    delivery_stack.wait_final(_app_id(instance), sent.body["notification_id"], devices=1)
    (message,) = _delivered_to(delivery_stack, token)
    assert _shown(message) == ("You were mentioned", "@carol hi")


def test_takos_events_need_the_enrolments_shared_secret_when_it_has_one(
    delivery_stack, new_instance
):
    secret = "s3cret-" + uuid.uuid4().hex
    instance = new_instance(push_secret=secret)
    enrolment = delivery_stack.api.request(
        "GET", f"/push/instances/{instance.instance.lower()}", delivery_stack.api.admin
    ).json()
    assert enrolment["push_secret_set"] is True
    assert secret not in str(enrolment)
    assert instance.register("dan", fcm_token()).status == 201  # takos sends none there
    assert _error(instance.event("dan")) == (401, "missing_push_secret")
    assert _error(instance.event("dan", secret="wrong-" + secret)) == (401, "invalid_push_secret")
    assert instance.event("dan", secret=secret).status == 202


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [(-700, (401, "expired")), (+300, (401, "not_yet_valid"))],
)
def test_takos_events_outside_ten_minutes_are_refused(
    delivery_stack, new_instance, created_at, expected
):
    instance = new_instance()
    assert instance.register("erin", fcm_token()).status == 201
    refused = instance.event("erin", **{"created-at": _iso(time.time() + created_at)})
    assert _error(refused) == expected


def test_takos_event_for_another_user_than_its_notification_is_refused(
    delivery_stack, new_instance
):
    instance = new_instance()
    exchange = instance.event("frank", variant="old")
    assert exchange.status == 202
    # userId and notification.user_id must agree: a body that says otherwise is not signed
    # by takos, and signed by anyone it is refused before anything is sent
    tampered = exchange.payload
    tampered["userId"] = "someone-else"
    response = delivery_stack.api.http.post(
        "/internal/push/events",
        json=tampered,
        headers={"X-Push-Signature": exchange.headers["X-Push-Signature"]},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "user_mismatch")


def test_takos_reference_client_speaks_the_takos_wire_too(delivery_stack):
    api = delivery_stack.api
    with WellKnownServer() as server:
        client = GatewayClient.generate(f"ref-{uuid.uuid4().hex[:8]}.example")
        server.publish(client.wellknown())
        api.enrol_instance(client.instance, server.origin)
        token = fcm_token()
        registration = client.register("gina", token, "unknown", app_id="", wire="takos")
        registered = api.http.post(
            registration.path, content=registration.body, headers=registration.headers
        )
        assert registered.status_code == 201, registered.text
        event = client.takos_event("gina", {"type": "reply", "message": "re: hello"})
        sent = api.http.post(event.path, content=event.body, headers=event.headers)
        assert sent.status_code == 202, sent.text
        delivery_stack.wait_final(f"takos:{client.instance}", sent.json()["notification_id"], 1)
    (message,) = _delivered_to(delivery_stack, token)
    assert _shown(message) == ("New reply", "re: hello")
