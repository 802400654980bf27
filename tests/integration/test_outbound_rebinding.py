"""Under production URL rules, a connection goes to the address that was checked, never to
what another lookup of the name says: through the real deliver and receipts handlers, for
ntfy servers, Web Push endpoints and webhooks.

The name is `localhost`. The local hosts file (what pushgate's resolver reads) says it is a
public address; the system's own resolver says 127.0.0.1. That is DNS rebinding frozen in
place: the check sees a public answer, and a connection made by name (a second lookup) lands
on loopback. The network is simulated: the public address routes to a stand-in playing the
real server, and anything else that is not loopback is unreachable."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpcore
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from local.context import LambdaContext
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.crypto._base64 import b64url_encode
from pushgate.devices.addresses import parse_push_token
from pushgate.devices.service import upsert_device
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept
from pushgate.outbound._stream import AsyncioBackend
from pushgate.receipts.models import Receipt, ReceiptMessage
from pushgate.settings import get_settings
from pushgate.storage.notifications import NotificationRecord
from tests.integration.lambdas import (
    drain,
    fresh_container,
    fresh_queues,
    load_handler,
    sqs_event,
)
from tests.standins.webhook import WebhookReceiver

ADMIN = Principal("admin", "ops", "test", frozenset({"push:admin"}))
PUBLIC = "93.184.216.34"


class Network:
    """Both sides of the rebinding: `internal` is on loopback (where a connection by name
    lands), `public` answers for PUBLIC on the internal one's port (where the checked address
    leads). Both serve TLS for `localhost`."""

    def __init__(self, tmp_path: Path) -> None:
        self.internal = WebhookReceiver(tls=True).start()
        self.public = WebhookReceiver(tls=True).start()
        self.port = self.internal.port
        self.ca_bundle = tmp_path / "ca.pem"
        self.ca_bundle.write_bytes((self.internal.ca_pem or b"") + (self.public.ca_pem or b""))

    def stop(self) -> None:
        self.internal.stop()
        self.public.stop()


@pytest.fixture
def network(pushgate_env, monkeypatch, tmp_path) -> Iterator[Network]:
    network = Network(tmp_path)
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps({"localhost": [PUBLIC]}))
    for name, value in {
        "PUSHGATE_ALLOW_PRIVATE_URLS": "0",
        "PUSHGATE_HOSTS_FILE": str(hosts),
        "PUSHGATE_WEBPUSH_ALLOWED_HOSTS": "localhost",
        "PUSHGATE_CA_BUNDLE": str(network.ca_bundle),  # the deliver function's extra trust
        "SSL_CERT_FILE": str(network.ca_bundle),  # httpx's default trust
    }.items():
        monkeypatch.setenv(name, value)
    connect = AsyncioBackend.connect_tcp  # the network pushgate's connections are made on

    async def routed(self, host, port, *args, **kwargs):
        if (host, port) == (PUBLIC, network.port):
            host, port = "127.0.0.1", network.public.port
        elif host not in ("127.0.0.1", "localhost"):
            raise httpcore.ConnectError("no route to the internet in tests")
        return await connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", routed)
    fresh_container()
    yield network
    fresh_container()
    network.stop()


@pytest.fixture
def queues(network, monkeypatch) -> Iterator[dict[str, str]]:
    yield from fresh_queues(monkeypatch)


def _subscription(endpoint: str) -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"endpoint": endpoint, "keys": {"p256dh": b64url_encode(point), "auth": "A" * 22}}


def test_deliveries_go_to_the_checked_address_of_ntfy_servers_and_web_push_endpoints(
    network, queues
):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    settings = get_settings()
    origin = f"https://localhost:{network.port}"
    for platform, token in (
        ("ntfy", {"url": f"{origin}/alerts"}),
        ("web", _subscription(f"{origin}/push/subscription-1")),
    ):
        address = parse_push_token(platform, token, settings)  # checked: a public address
        upsert_device(
            app_id=app_id,
            user_id="alice",
            platform=platform,
            address=address,
            owner="test",
            user_agent=None,
        )
    [notification_id] = accept(
        app_id, [Recipient("alice", MessageContent(title="Hi", body="There"))]
    )

    result = load_handler("deliver")(
        sqs_event(drain(queues["DELIVERY_QUEUE_URL"])), LambdaContext()
    )

    assert result == {"batchItemFailures": []}
    assert network.internal.received() == ()
    assert sorted(call.path for call in network.public.received()) == [
        "/",  # ntfy publishes to the server root
        "/push/subscription-1",
    ]
    deliveries = NotificationRecord.get(notification_id).deliveries.as_dict()
    assert sorted(entry["status"] for entry in deliveries.values()) == ["delivered"] * 2


def test_receipts_go_to_the_checked_address_of_the_webhook(network, queues):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    url = f"https://localhost:{network.port}/hook"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True, webhook_url=url))
    receipt = Receipt(
        notification_id="ntf_" + "0" * 26,
        user_id="alice",
        device_id="dev_" + "a" * 32,
        app_id=app_id,
        platform="ntfy",
        status="delivered",
        error=None,
        timestamp="2026-11-22T06:00:00.000Z",
    )

    result = load_handler("receipts")(
        sqs_event([ReceiptMessage(receipt=receipt).model_dump_json()]), LambdaContext()
    )

    assert result == {"batchItemFailures": []}
    assert network.internal.received() == ()
    (call,) = network.public.received()
    assert (call.path, call.json()) == ("/hook", receipt.model_dump())
    assert drain(queues["RECEIPT_QUEUE_URL"]) == []
