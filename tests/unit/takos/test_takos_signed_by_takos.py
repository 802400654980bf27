"""pushgate reads signatures the way takos makes them: its canonical form, written by the
takos source's own code (`tests/interop/takos_client.mjs`, run in node), matches pushgate's
port byte for byte, and what it signs verifies, with the signature in the body or the header."""

from __future__ import annotations

import json

import pytest

from pushgate.takos.signing import signature_verifies, split_signature, takos_canonical
from tests.takos import TakosInstance, canonical, sign
from tests.unit.takos.test_takos_signing import TAKOS_CASES

pytestmark = pytest.mark.interop

EVENT = {
    "instance": "social.example",
    "userId": "u-1",
    "notification": {
        "id": "5f0c8a4e-3c1b-4a55-9b9e-0d1f2a3b4c5d",
        "user_id": "u-1",
        "type": "comment",
        "actor_id": None,
        "ref_type": "post",
        "ref_id": "p-9",
        "message": "Carol さんがあなたの投稿にコメントしました",
        "data_json": {"tags": [["a", "b"], {"k": 1.5}], "n": 10**15, "e": {}},
        "created_at": "2026-12-01T09:00:00.123Z",
        "read": 0,
    },
}


@pytest.fixture(scope="module")
def instance() -> TakosInstance:
    return TakosInstance("social.example", "http://127.0.0.1:9")


@pytest.mark.parametrize("case", sorted(TAKOS_CASES))
def test_takos_canonical_matches_takos_code(case):
    value, _ = TAKOS_CASES[case]
    assert takos_canonical(value).decode() == canonical(value)


def test_takos_canonical_matches_takos_code_on_an_event_with_nested_arrays():
    assert takos_canonical(EVENT).decode() == canonical(EVENT)


def test_an_event_signed_by_takos_verifies_in_the_header(instance):
    signature = sign(instance.private_key, EVENT)
    assert len(signature) == 88  # standard base64 of raw r||s, padded
    body = json.dumps(EVENT, ensure_ascii=False)
    signed = split_signature(json.loads(body), body.encode(), signature)
    assert signature_verifies(instance.public_pem, signed)


def test_a_registration_signed_by_takos_verifies_from_its_body_field(instance):
    envelope = {
        "action": "register",
        "instance": "Social.Example",
        "userId": "u-1",
        "token": "fcm-token",
        "platform": "unknown",
        "appId": "",
        "issuedAt": "2026-12-01T09:00:00.123Z",
        "expiresAt": "2026-12-01T09:05:00.123Z",
        "nonce": "0b9d6f6e-8d2c-4f4e-9a37-7a1c0e2d3f4b",
    }
    body = {**envelope, "signature": sign(instance.private_key, envelope)}
    signed = split_signature(body, json.dumps(body).encode(), None)
    assert signature_verifies(instance.public_pem, signed)
    tampered = split_signature(body | {"userId": "u-2"}, b"", None)
    assert not signature_verifies(instance.public_pem, tampered)
