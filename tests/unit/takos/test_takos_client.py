"""The reference client operators use: its canonical JSON is pushgate's, its signatures and
documents are what pushgate accepts, and its CLI writes usable keys."""

from __future__ import annotations

import json
import re
import stat

import pytest

from clients import gateway_client
from clients.gateway_client import GatewayClient, canonical_json, public_pem
from pushgate.crypto import canonicalize, verify_payload, verify_signature
from pushgate.takos.models import (
    NONCE_PATTERN,
    GatewayEventRequest,
    GatewayRegistrationRequest,
    TakosEventRequest,
)
from pushgate.takos.signing import parse_timestamp, signature_verifies, split_signature
from pushgate.takos.wellknown import parse_document

PAYLOADS = [
    {"b": 1, "a": [True, False, None], "c": {"z": "", "y": -0}},
    {"text": "é ü 日本 🎉", "controls": "\u0000\u0001\b\t\n\f\r\u001f\u007f", "q": '"\\/'},
    {"\U0001f600": 1, "\ufb33": 2, "a": 3},  # UTF-16 order differs from code-point order
    {"nested": [{"k": [1, [2, [3]]]}], "big": 9007199254740991},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_client_canonical_json_is_rfc8785(payload):
    assert canonical_json(payload) == canonicalize(payload)


def test_client_canonical_json_refuses_floats():
    with pytest.raises(TypeError):
        canonical_json({"a": 1.5})


@pytest.fixture(scope="module")
def client() -> GatewayClient:
    return GatewayClient.generate("social.example", tenant="social")


def test_client_register_is_a_valid_signed_registration(client):
    request = client.register("alice", "tok-" + "x" * 40, "android", app_id="jp.example")
    payload = json.loads(request.body)
    assert request.path == "/push/register"
    assert GatewayRegistrationRequest.model_validate(payload).action == "register"
    assert verify_payload(client.registration_key.public_key(), request.signature, payload)
    assert verify_signature(client.registration_key.public_key(), request.signature, request.body)


def test_client_deregister_names_the_action(client):
    request = client.deregister("alice", {"url": "https://ntfy.example/t"}, "ntfy")
    assert request.payload["action"] == "deregister"
    assert request.payload["token"] == {"url": "https://ntfy.example/t"}


def test_client_event_is_signed_with_the_webhook_key(client):
    request = client.event("alice", "Hi", "there", data={"k": "v"}, url="https://x.example/")
    assert request.path == "/push/webhook"
    GatewayEventRequest.model_validate(request.payload)
    assert verify_payload(client.webhook_key.public_key(), request.signature, request.payload)
    assert not verify_payload(
        client.registration_key.public_key(), request.signature, request.payload
    )


def test_client_event_without_webhook_key_uses_the_registration_key():
    plain = GatewayClient("social.example", GatewayClient.generate("x").registration_key)
    request = plain.event("alice", "Hi", "there")
    assert verify_payload(plain.registration_key.public_key(), request.signature, request.payload)


def test_client_envelope_is_valid_for_five_minutes_with_a_fresh_nonce(client):
    first = client.envelope({"userId": "alice"}, now=1_800_000_000)
    second = client.envelope({"userId": "alice"}, now=1_800_000_000)
    assert first["instance"] == "social.example"
    assert first["issuedAt"] == "2027-01-15T08:00:00Z"
    lifetime = parse_timestamp(first["expiresAt"], "e") - parse_timestamp(first["issuedAt"], "i")
    assert lifetime == 300
    assert re.match(NONCE_PATTERN, first["nonce"])
    assert first["nonce"] != second["nonce"]


def test_client_wellknown_is_a_document_pushgate_accepts(client):
    document = parse_document(json.dumps(client.wellknown()).encode(), fetched_at=0)
    assert (document.instance, document.tenant) == ("social.example", "social")
    assert document.webhook_key is not None


def test_client_keys_saved_to_a_folder_load_back_owner_only(client, tmp_path):
    client.save(tmp_path)
    loaded = GatewayClient.from_directory("social.example", tmp_path)
    assert (
        loaded.wellknown()["registrationPublicKey"] == client.wellknown()["registrationPublicKey"]
    )
    for name in ("registration.pem", "webhook.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert (tmp_path / "registration.pub.pem").read_text().startswith("-----BEGIN PUBLIC KEY")


def test_client_cli_generates_keys_and_prints_documents_and_requests(tmp_path, capsys):
    assert gateway_client.main(["keygen", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    args = ["--instance", "social.example", "--dir", str(tmp_path)]
    assert gateway_client.main(["wellknown", *args, "--tenant", "social"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert parse_document(json.dumps(published).encode(), fetched_at=0).tenant == "social"
    token = json.dumps({"endpoint": "https://fcm.googleapis.com/wp/abc"})
    command = ["register", *args, "--user", "alice", "--platform", "web", "--token", token]
    assert gateway_client.main(command) == 0
    lines = capsys.readouterr().out.splitlines()
    body = json.loads(lines[-1])
    assert body["token"] == {"endpoint": "https://fcm.googleapis.com/wp/abc"}
    assert body["action"] == "register"


def test_client_takos_wire_registration_carries_its_signature_in_the_body(client):
    request = client.register("alice", "tok-" + "x" * 40, "unknown", app_id="", wire="takos")
    body = json.loads(request.body)
    assert request.headers == {"content-type": "application/json"}
    assert body["signature"] == request.signature
    assert GatewayRegistrationRequest.model_validate(body).platform == "unknown"
    signed = split_signature(body, request.body, None)
    assert signature_verifies(public_pem(client.registration_key), signed)


def test_client_takos_wire_event_is_a_takos_notification(client):
    request = client.takos_event("alice", {"type": "reply", "message": "hi", "ref_type": "post"})
    assert request.path == "/internal/push/events"
    event = TakosEventRequest.model_validate(request.payload)
    assert (event.notification.type, event.notification.message) == ("reply", "hi")
    assert parse_timestamp(event.notification.created_at, "created_at") > 0
    signed = split_signature(request.payload, request.body, request.headers["X-Push-Signature"])
    assert signature_verifies(public_pem(client.webhook_key), signed)
