"""Deliveries under production URL rules: a name that resolved to a public address when it
was registered and to a private one when the push is sent is refused when connecting."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.e2e.conftest import FINAL, STRICT_WEBPUSH_HOST, Api
from tests.standins.tarpit import TarpitServer

pytestmark = pytest.mark.e2e
PUBLIC = "93.184.216.34"


def _resolve(api: Api, name: str, addresses: list[str]) -> None:
    hosts = api.stack.hosts_file
    hosts.write_text(json.dumps(json.loads(hosts.read_text()) | {name: addresses}))


def _register(api: Api, app_id: str, platform: str, token: dict) -> None:
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token("gina", aud=[app_id]),
        json={"app_id": app_id, "platform": platform, "push_token": token},
    )
    assert response.status_code == 201, response.text


def _final_deliveries(api: Api, app_id: str, timeout: float = 30) -> list[dict]:
    sent = api.request(
        "POST",
        "/push/send",
        api.token(app_id, scope="push:send"),
        json={"user_id": "gina", "title": "Hi", "body": "There"},
    )
    assert sent.status_code == 202, sent.text
    path = f"/push/notifications/{sent.json()['notification_id']}"
    deadline = time.monotonic() + timeout
    while True:
        deliveries = api.request("GET", path, api.token(app_id, scope="push:send")).json()
        deliveries = deliveries.get("deliveries", [])
        if deliveries and all(d["status"] in FINAL for d in deliveries):
            return deliveries
        assert time.monotonic() < deadline, f"not final in {timeout} s: {deliveries}"
        time.sleep(0.2)


def _subscription(endpoint: str) -> dict:
    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = point.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    auth = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    p256dh = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def test_delivery_ntfy_server_rebound_to_loopback_is_refused_when_connecting(strict_api):
    with TarpitServer() as listener:  # what is on loopback: it must see no connection
        name = f"ntfy-{uuid.uuid4().hex[:8]}.example"
        _resolve(strict_api, name, [PUBLIC])
        app_id = strict_api.new_app()
        _register(strict_api, app_id, "ntfy", {"url": f"https://{name}:{listener.port}/alerts"})
        _resolve(strict_api, name, ["127.0.0.1"])  # rebinding

        (delivery,) = _final_deliveries(strict_api, app_id)

        assert (delivery["status"], delivery["error"]) == ("failed", "unsafe_url")
        assert listener.accepted() == ()


def test_delivery_web_push_endpoint_rebound_to_loopback_is_refused_when_connecting(strict_api):
    with TarpitServer() as listener:
        # An allow-listed push service: not resolved at registration, only when sending.
        name = f"wp-{uuid.uuid4().hex[:8]}.{STRICT_WEBPUSH_HOST}"
        app_id = strict_api.new_app()
        endpoint = f"https://{name}:{listener.port}/push/{uuid.uuid4().hex}"
        _register(strict_api, app_id, "web", _subscription(endpoint))
        _resolve(strict_api, name, ["127.0.0.1"])

        (delivery,) = _final_deliveries(strict_api, app_id)

        assert (delivery["status"], delivery["error"]) == ("failed", "unsafe_url")
        assert listener.accepted() == ()
