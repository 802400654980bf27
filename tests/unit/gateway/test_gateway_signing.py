"""Signed-request checks that need no storage: strict JSON, timestamps, the validity window,
nonce keys and the signature itself."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from clients.gateway_client import GatewayClient, public_pem
from pushgate.errors import BadRequestError, SignatureError
from pushgate.gateway.signing import (
    MAX_CLOCK_SKEW_SECONDS,
    MAX_LIFETIME_SECONDS,
    check_validity,
    parse_json_object,
    parse_timestamp,
    require_signature,
    signature_verifies,
)
from pushgate.storage.nonces import nonce_key

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC).timestamp()


# ---------------------------------------------------------------- strict JSON


def test_parse_json_object_reads_an_object():
    assert parse_json_object(b'{"a": [1, "x"], "b": null}') == {"a": [1, "x"], "b": None}


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1, "a": 2}',
        b'{"a": {"b": 1, "b": 1}}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[1, 2]",
        b'"text"',
        b'{"a": ',
        b"",
        b'{"a": "\xff"}',
    ],
    ids=[
        "duplicate-key",
        "nested-duplicate",
        "nan",
        "infinity",
        "array",
        "string",
        "truncated",
        "empty",
        "not-utf8",
    ],
)
def test_parse_json_object_refuses_ambiguous_or_malformed_bodies(body):
    with pytest.raises(BadRequestError) as refused:
        parse_json_object(body)
    assert refused.value.status == 400


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T05:06:07Z", NOW),
        ("2026-03-04t05:06:07z", NOW),
        ("2026-03-04T05:06:07.250Z", NOW + 0.25),
        ("2026-03-04T14:06:07+09:00", NOW),
        ("2026-03-04T00:06:07-05:00", NOW),
        ("2026-03-04T05:06:07.123456789Z", NOW + 0.123456789),
        (int(NOW), NOW),
        (NOW + 0.5, NOW + 0.5),
        (int(NOW * 1000), NOW),
        (int(NOW * 1000) + 250, NOW + 0.25),
    ],
    ids=[
        "rfc3339-z",
        "rfc3339-lower-case",
        "fraction",
        "positive-offset",
        "negative-offset",
        "nanoseconds",
        "epoch-seconds",
        "epoch-float",
        "epoch-milliseconds",
        "epoch-milliseconds-fraction",
    ],
)
def test_parse_timestamp_reads_rfc3339_and_epoch_forms(value, expected):
    assert parse_timestamp(value, "issuedAt") == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-04T05:06:07",  # no offset: ambiguous
        "2026-03-04 05:06:07Z",
        "2026-03-04",
        "2026-13-04T05:06:07Z",
        "2026-02-30T05:06:07Z",
        "yesterday",
        "1772600767",  # epoch numbers are numbers, not strings
        True,
        None,
        -1,
        float("nan"),
        [NOW],
    ],
)
def test_parse_timestamp_refuses_other_forms(value):
    with pytest.raises(BadRequestError) as refused:
        parse_timestamp(value, "expiresAt")
    assert refused.value.code == "invalid_timestamp"
    assert "expiresAt" in refused.value.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31T23:59:59-23:59", "expiresAt is not a valid date"),  # past 9999 in UTC
        ("0001-01-01T00:00:00+23:59", "expiresAt is not a valid date"),  # before year 1
        (int("9" * 400), "expiresAt is not a valid epoch time"),  # too large for a float
        (-(10**400), "expiresAt is not a valid epoch time"),
        (253_402_300_800_000, "expiresAt is not a valid epoch time"),  # 10000-01-01 in ms
    ],
    ids=[
        "offset-past-9999",
        "offset-before-year-1",
        "400-digits",
        "minus-400-digits",
        "year-10000-ms",
    ],
)
def test_parse_timestamp_refuses_values_out_of_range_without_overflowing(value, message):
    with pytest.raises(BadRequestError) as refused:
        parse_timestamp(value, "expiresAt")
    assert (refused.value.status, refused.value.code) == (400, "invalid_timestamp")
    assert refused.value.message == message


# ---------------------------------------------------------------- validity window


def test_check_validity_accepts_a_window_around_now():
    window = check_validity(NOW - 5, NOW + 295, now=NOW)
    assert (window.issued_at, window.expires_at) == (NOW - 5, NOW + 295)


def test_check_validity_tolerates_clock_skew_up_to_a_minute():
    check_validity(NOW + MAX_CLOCK_SKEW_SECONDS, NOW + 300, now=NOW)


def test_check_validity_refuses_issued_in_the_future():
    with pytest.raises(SignatureError) as refused:
        check_validity(NOW + MAX_CLOCK_SKEW_SECONDS + 1, NOW + 300, now=NOW)
    assert (refused.value.status, refused.value.code) == (401, "not_yet_valid")


@pytest.mark.parametrize("expires_at", [NOW, NOW - 1])
def test_check_validity_refuses_expired(expires_at):
    with pytest.raises(SignatureError) as refused:
        check_validity(NOW - 300, expires_at, now=NOW)
    assert refused.value.code == "expired"


def test_check_validity_accepts_a_lifetime_of_exactly_ten_minutes():
    check_validity(NOW - 10, NOW - 10 + MAX_LIFETIME_SECONDS, now=NOW)


def test_check_validity_refuses_a_lifetime_over_ten_minutes():
    with pytest.raises(SignatureError) as refused:
        check_validity(NOW - 10, NOW - 10 + MAX_LIFETIME_SECONDS + 1, now=NOW)
    assert refused.value.code == "lifetime_too_long"


def test_check_validity_refuses_expiry_before_issue():
    with pytest.raises(SignatureError) as refused:
        check_validity(NOW + 30, NOW + 20, now=NOW)
    assert refused.value.code == "invalid_lifetime"


def test_check_validity_mixes_timestamp_forms():
    window = check_validity("2026-03-04T05:06:07Z", int((NOW + 60) * 1000), now=NOW)
    assert window.expires_at - window.issued_at == pytest.approx(60)


def test_validity_window_keeps_the_nonce_past_expiry_and_skew():
    window = check_validity(NOW, NOW + 100.2, now=NOW)
    assert window.nonce_expires_at == int(NOW) + 101 + MAX_CLOCK_SKEW_SECONDS


# ---------------------------------------------------------------- nonces and headers


def test_nonce_key_scopes_the_nonce_to_its_instance():
    assert nonce_key("social.example", "n" * 16) == "social.example#" + "n" * 16
    assert nonce_key("a.example", "x" * 16) != nonce_key("b.example", "x" * 16)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_require_signature_refuses_a_missing_header(header):
    with pytest.raises(SignatureError) as refused:
        require_signature(header)
    assert (refused.value.status, refused.value.code) == (401, "missing_signature")


# ---------------------------------------------------------------- signatures


@pytest.fixture(scope="module")
def client() -> GatewayClient:
    return GatewayClient.generate("social.example")


def _pem(client: GatewayClient) -> str:
    return public_pem(client.registration_key)


def test_signature_verifies_over_the_canonical_json(client):
    request = client.register("alice", "tok" * 20, "android")
    # The body as the server parsed it, in any key order: the canonical form is signed.
    reordered = dict(reversed(list(json.loads(request.body).items())))
    assert signature_verifies(_pem(client), request.signature, reordered, b"ignored")


def test_signature_verifies_over_the_exact_raw_body(client):
    raw = json.dumps({"userId": "alice", "b": 1}, indent=2).encode()
    signature = base64.b64encode(
        client.registration_key.sign(raw, ec.ECDSA(hashes.SHA256()))
    ).decode()  # DER, as many libraries produce
    assert signature_verifies(_pem(client), signature, json.loads(raw), raw)


def test_signature_refuses_a_tampered_field(client):
    request = client.register("alice", "tok" * 20, "android")
    tampered = json.loads(request.body) | {"userId": "mallory"}
    assert not signature_verifies(
        _pem(client), request.signature, tampered, json.dumps(tampered).encode()
    )


def test_signature_refuses_another_key(client):
    request = client.register("alice", "tok" * 20, "android")
    other = public_pem(GatewayClient.generate("x").registration_key)
    assert not signature_verifies(other, request.signature, request.payload, request.body)


def test_signature_refuses_another_canonicalisation(client):
    payload = client.envelope({"userId": "alice", "title": "t", "body": "b"})
    pretty = json.dumps(payload, indent=1).encode()
    signature = base64.b64encode(
        client.registration_key.sign(pretty, ec.ECDSA(hashes.SHA256()))
    ).decode()
    # Signed over a pretty-printed form, sent canonically: neither form verifies.
    request = client.signed("/push/webhook", payload)
    assert not signature_verifies(_pem(client), signature, payload, request.body)


def test_signature_refuses_garbage_without_raising(client):
    assert not signature_verifies(_pem(client), "not base64!", {"a": 1}, b"{}")
    assert not signature_verifies("not a key", "AAAA", {"a": 1}, b"{}")
