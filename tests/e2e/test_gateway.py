"""Gateway clients (takos protocol) end to end: enrolment, signed registrations and events
through the local stack to the FCM stand-in, with each instance's well-known document served
by a real HTTP server on 127.0.0.1. Every refusal is checked to change nothing."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clients.gateway_client import GatewayClient, SignedRequest, generate_key
from local.stack import LocalStack
from tests.e2e.conftest import Api, Delivery
from tests.standins.wellknown import WellKnownServer

# One worker runs the module (its open-mode stack is module-scoped); a group of its own lets
# it run beside the long delivery tests instead of after them.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("gateway")]

TOKEN_TAIL = ":APA91b" + "g" * 100


@dataclasses.dataclass
class Instance:
    """One gateway instance: its keys, the server publishing its well-known document, and
    the pushgate stack it talks to."""

    api: Api
    client: GatewayClient
    server: WellKnownServer

    @property
    def name(self) -> str:
        return self.client.instance

    @property
    def app_id(self) -> str:
        return f"takos:{self.client.tenant or self.name}"

    def post(self, request: SignedRequest) -> httpx.Response:
        return self.api.http.post(request.path, content=request.body, headers=request.headers)

    def post_raw(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.api.http.post(path, content=body, headers=headers)

    def register(self, user: str, token: str, **timing) -> httpx.Response:
        return self.post(self.client.register(user, token, "android", **timing))

    def event(self, user: str, path: str = "/push/webhook", **fields) -> httpx.Response:
        return self.post(self.client.event(user, "Hello", "from takos", path=path, **fields))

    def enrol(self, **body) -> httpx.Response:
        body = {"domain": self.server.origin, "enabled": True} | body
        return self.api.request("PUT", f"/push/instances/{self.name}", self.api.admin, json=body)

    def state(self) -> dict:
        """Everything a request may change: enrolment, devices, today's quota use."""
        enrolment = self.api.request("GET", f"/push/instances/{self.name}", self.api.admin)
        devices = self.api.request("GET", f"/push/devices/{self.app_id}", self.api.admin)
        return {
            "enrolment": enrolment.json() if enrolment.status_code == 200 else None,
            "devices": devices.json() if devices.status_code == 200 else None,
        }


def fcm_token() -> str:
    return "gw-" + uuid.uuid4().hex + TOKEN_TAIL


def _error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.fixture
def gateway_api(delivery_stack: Delivery) -> Api:
    return delivery_stack.api


@pytest.fixture
def new_instance(delivery_stack: Delivery) -> Iterator[Callable[..., Instance]]:
    """Makes instances on the delivery stack: keys, a well-known server publishing them,
    and (unless `enrol=False`) an admin enrolment."""
    servers: list[WellKnownServer] = []

    def make(*, enrol: bool = True, tenant: str | None = None, webhook: bool = True) -> Instance:
        server = WellKnownServer().start()
        servers.append(server)
        client = GatewayClient.generate(f"i{uuid.uuid4().hex[:12]}.example", tenant=tenant)
        if not webhook:
            client = dataclasses.replace(client, webhook_key=None)
        server.publish(client.wellknown())
        instance = Instance(delivery_stack.api, client, server)
        if enrol:
            assert instance.enrol().status_code == 201
        return instance

    yield make
    for server in servers:
        server.stop()
        assert server.errors() == ()


# ---------------------------------------------------------------- the whole journey


def test_gateway_instance_registers_delivers_deregisters_and_then_reaches_nothing(
    new_instance, delivery_stack
):
    instance = new_instance()
    token = fcm_token()

    registered = instance.register("alice", token)
    assert registered.status_code == 201, registered.text
    registration = registered.json()["registration"]
    assert registration["tenant"] == instance.name
    assert (registration["user_id"], registration["action"]) == ("alice", "register")

    sent = instance.event("alice", data={"post": "42"}, url="https://social.example/p/42")
    assert sent.status_code == 202, sent.text
    notification_id = sent.json()["notification_id"]
    status = delivery_stack.wait_final(instance.app_id, notification_id, devices=1)
    assert [d["status"] for d in status["deliveries"]] == ["delivered"]
    (message,) = [m for m in delivery_stack.fcm.delivered() if m.token == token]
    assert message.notification_id == notification_id
    assert message.data["post"] == "42"

    deregistered = instance.post(instance.client.deregister("alice", token, "android"))
    assert deregistered.status_code == 200, deregistered.text
    assert deregistered.json()["registration"] == registration | {"action": "deregister"}

    later = instance.event("alice")
    assert later.status_code == 202
    delivery_stack.wait_queue_drained()
    assert (
        delivery_stack.status(instance.app_id, later.json()["notification_id"])["deliveries"] == []
    )
    assert [m for m in delivery_stack.fcm.delivered() if m.token == token] == [message]
    assert instance.state()["enrolment"]["device_count"] == 0


def test_gateway_events_alias_reaches_the_device_too(new_instance, delivery_stack):
    instance = new_instance()
    token = fcm_token()
    assert instance.register("bob", token).status_code == 201
    sent = instance.event("bob", path="/internal/push/events")
    assert sent.status_code == 202, sent.text
    delivery_stack.wait_final(instance.app_id, sent.json()["notification_id"], devices=1)
    assert len([m for m in delivery_stack.fcm.delivered() if m.token == token]) == 1


def test_gateway_register_again_is_200_with_the_same_device(new_instance):
    instance = new_instance()
    token = fcm_token()
    first = instance.register("alice", token)
    again = instance.register("alice", token)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert instance.state()["enrolment"]["device_count"] == 1


def test_gateway_tokens_are_stored_under_the_enrolled_tenant_whatever_the_document_says(
    new_instance,
):
    # Given an instance whose document names one tenant and whose enrolment names another
    instance = new_instance(tenant=f"document-{uuid.uuid4().hex[:8]}")
    enrolled = f"enrolled-{uuid.uuid4().hex[:8]}"
    assert instance.enrol(tenant=enrolled).status_code == 200
    # When it registers a token
    response = instance.register("alice", fcm_token())
    # Then the token belongs to the enrolled tenant
    assert response.status_code == 201, response.text
    assert response.json()["registration"]["tenant"] == enrolled
    state = instance.state()
    assert state["enrolment"]["tenant_app_id"] == f"takos:{enrolled}"
    devices = delivery_devices(instance, f"takos:{enrolled}")
    assert [d["user_id"] for d in devices] == ["alice"]


def delivery_devices(instance: Instance, app_id: str) -> list[dict]:
    response = instance.api.request("GET", f"/push/devices/{app_id}", instance.api.admin)
    assert response.status_code == 200, response.text
    return response.json()["devices"]


def test_gateway_refuses_a_document_tenant_outside_the_instance_domain(new_instance):
    # The document of an instance served from 127.0.0.1 names a tenant that is neither the
    # instance nor under 127.0.0.1: it could be anyone's, so it is not the instance's to take.
    instance = new_instance(tenant=f"tenant-{uuid.uuid4().hex[:8]}")
    before = instance.state()
    assert _error(instance.register("alice", fcm_token())) == (403, "tenant_not_allowed")
    assert _error(instance.event("alice")) == (403, "tenant_not_allowed")
    assert instance.state() == before
    unclaimed = f"/push/devices/takos:{instance.client.tenant}"
    assert instance.api.request("GET", unclaimed, instance.api.admin).status_code == 404


def test_gateway_instance_devices_cannot_be_deleted_with_a_service_token(new_instance):
    instance = new_instance()
    registered = instance.register("alice", fcm_token())
    device_id = registered.json()["registration"]["device_id"]
    api = instance.api
    token = api.token(instance.app_id, scope="push:send push:config")
    response = api.request("DELETE", f"/push/devices/{device_id}", token)
    assert _error(response) == (404, "not_found")
    assert instance.state()["enrolment"]["device_count"] == 1


def test_gateway_registrations_are_rate_limited_per_user_like_users_own(new_instance):
    instance = new_instance()
    for _ in range(10):
        assert instance.register("alice", fcm_token()).status_code == 201
    before = instance.state()
    limited = instance.register("alice", fcm_token())
    assert _error(limited) == (429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    assert instance.state() == before
    assert instance.register("bob", fcm_token()).status_code == 201


def test_gateway_deregister_of_an_unknown_token_is_404(new_instance):
    instance = new_instance()
    response = instance.post(instance.client.deregister("alice", fcm_token(), "android"))
    assert _error(response) == (404, "not_found")


def test_gateway_event_counts_against_the_instance_quota(new_instance):
    instance = new_instance()
    assert instance.enrol(daily_quota=1).status_code == 200
    assert instance.event("alice").status_code == 202
    refused = instance.event("alice")
    assert _error(refused) == (429, "quota_exceeded")
    assert int(refused.headers["retry-after"]) > 0
    assert instance.state()["enrolment"]["notifications_today"] == 1


# ---------------------------------------------------------------- signatures that verify


def _der_signature(key: ec.EllipticCurvePrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()


def test_gateway_accepts_a_der_signature_over_the_raw_body(new_instance):
    instance = new_instance()
    payload = instance.client.envelope(
        {"action": "register", "userId": "alice", "token": fcm_token(), "platform": "ios"}
    )
    raw = json.dumps(payload, indent=2).encode()  # not canonical: only the raw form verifies
    signature = _der_signature(instance.client.registration_key, raw)
    response = instance.post_raw(
        "/push/register", raw, {"content-type": "application/json", "x-push-signature": signature}
    )
    assert response.status_code == 201, response.text


def test_gateway_accepts_epoch_millisecond_timestamps(new_instance):
    instance = new_instance()
    now_ms = int(time.time() * 1000)
    payload = {
        "action": "register",
        "instance": instance.name,
        "userId": "alice",
        "token": fcm_token(),
        "platform": "android",
        "issuedAt": now_ms,
        "expiresAt": now_ms + 120_000,
        "nonce": uuid.uuid4().hex,
    }
    assert instance.post(instance.client.signed("/push/register", payload)).status_code == 201


def test_gateway_event_without_a_webhook_key_verifies_with_the_registration_key(new_instance):
    instance = new_instance(webhook=False)
    assert instance.event("alice").status_code == 202


def test_gateway_event_signed_with_the_registration_key_is_refused_when_a_webhook_key_exists(
    new_instance,
):
    instance = new_instance()
    before = instance.state()
    request = instance.client.signed(
        "/push/webhook",
        instance.client.envelope({"userId": "alice", "title": "t", "body": "b"}),
        instance.client.registration_key,
    )
    assert _error(instance.post(request)) == (401, "invalid_signature")
    assert instance.state() == before


# ---------------------------------------------------------------- refusals change nothing


def _tampered(instance: Instance, request: SignedRequest) -> tuple[bytes, dict]:
    payload = json.loads(request.body) | {"userId": "mallory"}
    return json.dumps(payload).encode(), request.headers


def _other_key(instance: Instance, request: SignedRequest) -> tuple[bytes, dict]:
    forged = GatewayClient(instance.name, generate_key(), generate_key())
    again = forged.signed(request.path, request.payload, forged.webhook_key)
    return again.body, again.headers


def _other_canonicalisation(instance: Instance, request: SignedRequest) -> tuple[bytes, dict]:
    key = instance.client.webhook_key if "title" in request.payload else None
    pretty = json.dumps(request.payload, indent=2).encode()
    signature = _der_signature(key or instance.client.registration_key, pretty)
    return request.body, request.headers | {"X-Push-Signature": signature}


def _missing_header(instance: Instance, request: SignedRequest) -> tuple[bytes, dict]:
    return request.body, {"content-type": "application/json"}


def _malformed_json(instance: Instance, request: SignedRequest) -> tuple[bytes, dict]:
    return request.body[:-5], request.headers


TIMING = {
    "expired": (lambda: {"now": time.time() - 700, "lifetime": 600}, (401, "expired")),
    "lifetime-over-10-min": (lambda: {"lifetime": 601}, (401, "lifetime_too_long")),
    "issued-in-the-future": (lambda: {"now": time.time() + 300}, (401, "not_yet_valid")),
}
ALTERED = {
    "tampered-field": (_tampered, (401, "invalid_signature")),
    "another-key": (_other_key, (401, "invalid_signature")),
    "another-canonicalisation": (_other_canonicalisation, (401, "invalid_signature")),
    "missing-header": (_missing_header, (401, "missing_signature")),
    "malformed-json": (_malformed_json, (400, "invalid_request")),
}


def _build(instance: Instance, kind: str, **timing) -> SignedRequest:
    if kind == "register":
        return instance.client.register("alice", fcm_token(), "android", **timing)
    return instance.client.event("alice", "Hello", "world", **timing)


@pytest.fixture
def active_instance(new_instance) -> Instance:
    """An instance that has registered one device, so its tenant app exists."""
    instance = new_instance()
    assert instance.register("alice", fcm_token()).status_code == 201
    return instance


@pytest.mark.parametrize("kind", ["register", "event"])
@pytest.mark.parametrize("case", sorted(TIMING))
def test_gateway_refuses_requests_outside_their_validity_window(active_instance, case, kind):
    timing, expected = TIMING[case]
    before = active_instance.state()
    response = active_instance.post(_build(active_instance, kind, **timing()))
    assert _error(response) == expected
    assert active_instance.state() == before


@pytest.mark.parametrize("kind", ["register", "event"])
@pytest.mark.parametrize("case", sorted(ALTERED))
def test_gateway_refuses_altered_requests(active_instance, case, kind):
    alter, expected = ALTERED[case]
    before = active_instance.state()
    body, headers = alter(active_instance, _build(active_instance, kind))
    path = "/push/register" if kind == "register" else "/push/webhook"
    assert _error(active_instance.post_raw(path, body, headers)) == expected
    assert active_instance.state() == before


@pytest.mark.parametrize("kind", ["register", "event"])
def test_gateway_refuses_a_replayed_nonce(active_instance, kind):
    request = _build(active_instance, kind)
    assert active_instance.post(request).status_code in (201, 202)
    after_first = active_instance.state()
    assert _error(active_instance.post(request)) == (409, "replayed_nonce")
    assert active_instance.state() == after_first


def test_gateway_refuses_an_unknown_instance_in_closed_mode(new_instance):
    instance = new_instance(enrol=False)
    assert _error(instance.register("alice", fcm_token())) == (404, "unknown_instance")
    assert instance.state() == {"enrolment": None, "devices": None}
    assert instance.server.fetches() == 0


def test_gateway_refuses_a_disabled_instance(active_instance):
    assert active_instance.enrol(enabled=False).status_code == 200
    before = active_instance.state()
    assert _error(active_instance.register("alice", fcm_token())) == (403, "instance_disabled")
    assert _error(active_instance.event("alice")) == (403, "instance_disabled")
    assert active_instance.state() == before


def test_gateway_refuses_a_tenant_that_another_enrolment_names(new_instance):
    shared = f"shared-{uuid.uuid4().hex[:8]}"
    owner = new_instance()
    assert owner.enrol(tenant=shared).status_code == 200
    assert owner.register("alice", fcm_token()).status_code == 201
    intruder = new_instance()
    assert intruder.enrol(tenant=shared).status_code == 200
    owner_before = owner.state()
    assert _error(intruder.event("alice")) == (403, "tenant_taken")
    assert _error(intruder.register("alice", fcm_token())) == (403, "tenant_taken")
    assert owner.state() == owner_before


def test_gateway_enrolment_naming_a_tenant_takes_it_from_an_instance_that_used_its_name(
    new_instance, delivery_stack
):
    # Given an instance that took the tenant named after it, and registered alice's device
    squatter = new_instance()
    squatted_token = fcm_token()
    assert squatter.register("alice", squatted_token).status_code == 201
    # When an admin enrols another instance naming that tenant
    rightful = new_instance()
    assert rightful.enrol(tenant=squatter.name).status_code == 200
    token = fcm_token()
    registered = rightful.register("alice", token)
    # Then the enrolled instance owns it, the other is refused, and alice's events reach
    # only the device the owner registered
    assert registered.status_code == 201, registered.text
    assert registered.json()["registration"]["tenant"] == squatter.name
    assert _error(squatter.event("alice")) == (403, "tenant_taken")
    sent = rightful.event("alice")
    assert sent.status_code == 202, sent.text
    status = delivery_stack.wait_final(squatter.app_id, sent.json()["notification_id"], 1)
    assert len(status["deliveries"]) == 1
    assert [m for m in delivery_stack.fcm.delivered() if m.token == squatted_token] == []


# ---------------------------------------------------------------- well-known documents


def _p384_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


WELLKNOWN = {
    "p384-key": lambda i: i.server.publish(
        i.client.wellknown() | {"registrationPublicKey": _p384_pem()}
    ),
    "redirect": lambda i: i.server.redirect(i.server.origin + "/elsewhere.json"),
    "larger-than-the-cap": lambda i: i.server.oversized(i.client.wellknown(), 64 * 1024),
    "malformed-json": lambda i: i.server.malformed(),
    "another-instance": lambda i: i.server.publish(
        i.client.wellknown() | {"instance": "someone-else.example"}
    ),
}


@pytest.mark.parametrize("case", sorted(WELLKNOWN))
def test_gateway_refuses_an_untrustworthy_wellknown_document(new_instance, case):
    instance = new_instance()
    WELLKNOWN[case](instance)
    before = instance.state()
    assert _error(instance.register("alice", fcm_token())) == (401, "invalid_wellknown")
    assert instance.state() == before
    assert before["enrolment"]["tenant_app_id"] is None


def test_gateway_refuses_an_unreachable_wellknown_document(new_instance):
    instance = new_instance()
    port = instance.server.port
    instance.server.stop()
    # The port stays bound, never listening: connections are refused, and no server another
    # test starts meanwhile can take the port and answer (seen in CI: invalid_wellknown).
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        assert _error(instance.register("alice", fcm_token())) == (401, "wellknown_unavailable")
    assert instance.state()["enrolment"]["tenant_app_id"] is None


def test_gateway_picks_up_a_key_rotation_after_one_failed_verification(new_instance):
    instance = new_instance()
    assert instance.register("alice", fcm_token()).status_code == 201
    fetched_at = time.monotonic()
    assert instance.server.fetches() == 1

    rotated = GatewayClient.generate(instance.name)
    instance.server.publish(rotated.wellknown())
    # A failed signature may re-fetch once the cached document is a second old (the
    # stack's PUSHGATE_WELLKNOWN_REFETCH_SECONDS), so bad requests cannot force fetches.
    time.sleep(max(0.0, fetched_at + 1.1 - time.monotonic()))
    with_new_key = rotated.register("alice", fcm_token(), "android")
    assert instance.post(with_new_key).status_code == 201
    assert instance.server.fetches() == 2
    assert _error(instance.register("alice", fcm_token())) == (401, "invalid_signature")


# ---------------------------------------------------------------- enrolment API


def test_gateway_enrolment_round_trip(new_instance, delivery_stack):
    api = delivery_stack.api
    instance = new_instance(enrol=False)
    path = f"/push/instances/{instance.name}"
    created = instance.enrol(tenant="custom", daily_quota=25)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["domain"] == instance.server.origin
    assert (body["tenant"], body["daily_quota"], body["enrolled_by"]) == ("custom", 25, "admin")
    assert (body["tenant_app_id"], body["device_count"], body["notifications_today"]) == (
        None,
        0,
        0,
    )
    replaced = instance.enrol()
    assert replaced.status_code == 200
    assert (replaced.json()["tenant"], replaced.json()["daily_quota"]) == (None, 10_000)
    assert api.request("GET", path, api.admin).json() == replaced.json()
    assert api.request("DELETE", path, api.admin).status_code == 204
    assert _error(api.request("GET", path, api.admin)) == (404, "not_found")
    assert _error(api.request("DELETE", path, api.admin)) == (404, "not_found")


def test_gateway_deleted_instance_is_refused_and_its_app_disabled(active_instance):
    api = active_instance.api
    path = f"/push/instances/{active_instance.name}"
    assert api.request("DELETE", path, api.admin).status_code == 204
    assert _error(active_instance.event("alice")) == (404, "unknown_instance")
    assert api.request("GET", f"/push/vapid-public-key/{active_instance.app_id}").status_code == 404


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_gateway_enrolment_is_admin_only(gateway_api, method):
    api = gateway_api
    path = f"/push/instances/i{uuid.uuid4().hex[:8]}.example"
    body = {"domain": "social.example", "enabled": True}
    for token in (api.token("demo", scope="push:config push:send"), api.token("alice")):
        response = api.request(method, path, token, json=body if method == "PUT" else None)
        assert response.status_code == 403
    assert _error(api.request("GET", path, api.admin)) == (404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"domain": "social.example"},
        {"domain": "social.example", "enabled": "yes"},
        {"domain": "social.example/path", "enabled": True},
        {"domain": "social.example", "enabled": True, "tenant": "a#b"},
        {"domain": "social.example", "enabled": True, "daily_quota": 0},
        {"domain": "social.example", "enabled": True, "extra": 1},
    ],
)
def test_gateway_enrolment_refuses_bad_bodies(gateway_api, body):
    api = gateway_api
    path = f"/push/instances/i{uuid.uuid4().hex[:8]}.example"
    assert api.request("PUT", path, api.admin, json=body).status_code == 400
    assert api.request("GET", path, api.admin).status_code == 404


def test_gateway_tenant_app_ids_are_reserved(gateway_api):
    api = gateway_api
    patched = api.request("PATCH", "/push/config/takos:mine", api.admin, json={"enabled": True})
    assert _error(patched) == (400, "reserved_app_id")
    registered = api.request(
        "POST",
        "/push/devices/register",
        api.token("alice", aud=["takos:mine"]),
        json={"app_id": "takos:mine", "platform": "android", "push_token": fcm_token()},
    )
    assert registered.status_code == 400


# ---------------------------------------------------------------- production URL rules


def test_gateway_refuses_a_wellknown_that_now_resolves_to_a_private_address(strict_api):
    stack = strict_api.stack
    hosts: Path = stack.hosts_file
    name = f"i{uuid.uuid4().hex[:12]}.example"
    client = GatewayClient.generate(name)
    hosts.write_text(json.dumps(json.loads(hosts.read_text()) | {name: ["93.184.215.14"]}))
    path = f"/push/instances/{name}"
    body = {"domain": name, "enabled": True}
    assert strict_api.request("PUT", path, strict_api.admin, json=body).status_code == 201
    hosts.write_text(json.dumps(json.loads(hosts.read_text()) | {name: ["127.0.0.1"]}))

    request = client.register("alice", fcm_token(), "android")
    response = strict_api.http.post(request.path, content=request.body, headers=request.headers)
    assert _error(response) == (400, "unsafe_url")
    enrolment = strict_api.request("GET", path, strict_api.admin).json()
    assert (enrolment["tenant_app_id"], enrolment["device_count"]) == (None, 0)


def test_gateway_enrolment_refuses_a_private_domain_under_production_rules(strict_api):
    path = f"/push/instances/i{uuid.uuid4().hex[:8]}.example"
    for domain in ("127.0.0.1:8443", "localhost", "http://127.0.0.1:8080"):
        response = strict_api.request(
            "PUT", path, strict_api.admin, json={"domain": domain, "enabled": True}
        )
        assert _error(response) == (400, "unsafe_url"), domain
    assert strict_api.request("GET", path, strict_api.admin).status_code == 404


# ---------------------------------------------------------------- open enrolment


@dataclasses.dataclass
class OpenStack:
    api: Api
    ca_bundle: Path

    @contextlib.contextmanager
    def instance(self) -> Iterator[tuple[WellKnownServer, GatewayClient]]:
        """An https well-known server the stack trusts, and a client named after it."""
        with WellKnownServer(tls=True) as server:
            with self.ca_bundle.open("ab") as bundle:
                bundle.write(server.ca_pem or b"")
            client = GatewayClient.generate(f"localhost:{server.port}")
            server.publish(client.wellknown())
            yield server, client


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory) -> Iterator[OpenStack]:
    """InstanceEnrollment=open; its functions trust the CA bundle the servers append to."""
    bundle = tmp_path_factory.mktemp("open-ca") / "ca.pem"
    bundle.write_bytes(b"")
    with LocalStack(
        parameters={"InstanceEnrollment": "open"},
        # env too: the parent's PUSHGATE_* variables (set by in-process tests) would win
        env={"PUSHGATE_INSTANCE_ENROLLMENT": "open", "SSL_CERT_FILE": str(bundle)},
        log_dir=tmp_path_factory.mktemp("open-logs"),
    ) as stack:
        api = Api(stack)
        yield OpenStack(api, bundle)
        api.http.close()


def test_gateway_open_mode_enrols_an_instance_on_its_first_valid_request(open_stack):
    api = open_stack.api
    with open_stack.instance() as (_, client):
        request = client.register("alice", fcm_token(), "android")
        response = api.http.post(request.path, content=request.body, headers=request.headers)
        assert response.status_code == 201, response.text
        enrolment = api.request("GET", f"/push/instances/{client.instance}", api.admin).json()
    assert enrolment["enrolled_by"] == "open"
    assert enrolment["domain"] == client.instance
    assert (enrolment["tenant_app_id"], enrolment["device_count"]) == (
        f"takos:{client.instance}",
        1,
    )


def test_gateway_open_mode_document_cannot_claim_another_instances_tenant(open_stack):
    api = open_stack.api
    with (
        open_stack.instance() as (victim_server, victim),
        open_stack.instance() as (attacker_server, attacker),
    ):
        # The attacker's document names the victim's tenant (the victim's instance name).
        squatting = GatewayClient.generate(attacker.instance, tenant=victim.instance)
        attacker_server.publish(squatting.wellknown())
        request = squatting.register("alice", fcm_token(), "android")
        response = api.http.post(request.path, content=request.body, headers=request.headers)
        assert _error(response) == (403, "tenant_not_allowed")
        request = victim.register("alice", fcm_token(), "android")
        response = api.http.post(request.path, content=request.body, headers=request.headers)
        assert response.status_code == 201, response.text
        assert response.json()["registration"]["tenant"] == victim.instance
        assert victim_server.fetches() == 1
    devices = api.request("GET", f"/push/devices/takos:{victim.instance}", api.admin).json()
    assert [d["user_id"] for d in devices["devices"]] == ["alice"]


def test_gateway_open_mode_refuses_an_invalid_request_and_enrols_nothing(open_stack):
    api = open_stack.api
    with open_stack.instance() as (server, client):
        forged = GatewayClient(client.instance, generate_key())
        request = forged.register("alice", fcm_token(), "android")
        response = api.http.post(request.path, content=request.body, headers=request.headers)
        assert _error(response) == (401, "invalid_signature")
        assert server.fetches() == 1
    enrolment = api.request("GET", f"/push/instances/{client.instance}", api.admin)
    assert enrolment.status_code == 404
    devices = api.request("GET", f"/push/devices/takos:{client.instance}", api.admin)
    assert devices.status_code == 404


def test_gateway_open_mode_refuses_an_instance_that_is_not_a_dns_name(open_stack):
    api = open_stack.api
    client = GatewayClient.generate("127.0.0.1:8443")
    request = client.register("alice", fcm_token(), "android")
    response = api.http.post(request.path, content=request.body, headers=request.headers)
    assert _error(response) == (404, "unknown_instance")
