"""Signed-request checks that need no storage: strict JSON, timestamps, the validity window,
nonce keys, where the signature travels and what it signs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from clients.gateway_client import GatewayClient, public_pem
from pushgate.errors import BadRequestError, SignatureError
from pushgate.storage.nonces import nonce_key
from pushgate.takos.signing import (
    MAX_CLOCK_SKEW_SECONDS,
    MAX_LIFETIME_SECONDS,
    check_validity,
    parse_json_object,
    parse_timestamp,
    signature_verifies,
    signed_messages,
    split_signature,
    takos_canonical,
)
from pushgate.takos.signing import Signed as SignedPayload

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
@pytest.mark.parametrize("in_body", [None, "", 7])
def test_split_signature_refuses_a_request_without_one(header, in_body):
    body = {"a": 1} | ({"signature": in_body} if in_body is not None else {})
    with pytest.raises(SignatureError) as refused:
        split_signature(body, b"{}", header)
    assert (refused.value.status, refused.value.code) == (401, "missing_signature")


def test_split_signature_takes_the_header_and_the_whole_body():
    signed = split_signature({"a": 1}, b'{"a": 1}', " sig ")
    assert signed == SignedPayload("sig", {"a": 1}, b'{"a": 1}')


def test_split_signature_takes_the_body_field_and_signs_the_body_without_it():
    # takos registrations: {...envelope, signature}, no header
    signed = split_signature({"a": 1, "signature": "sig"}, b"raw", None)
    assert signed == SignedPayload("sig", {"a": 1}, None)
    # with both, the header is the signature; the payload is still the body without the field
    assert split_signature({"a": 1, "signature": "x"}, b"raw", "sig") == signed


# ---------------------------------------------------------------- signatures


@pytest.fixture(scope="module")
def client() -> GatewayClient:
    return GatewayClient.generate("social.example")


def _pem(client: GatewayClient) -> str:
    return public_pem(client.registration_key)


def _der(client: GatewayClient, message: bytes) -> str:
    """A DER signature, as many libraries produce."""
    return base64.b64encode(
        client.registration_key.sign(message, ec.ECDSA(hashes.SHA256()))
    ).decode()


def test_signature_verifies_over_the_canonical_json(client):
    request = client.register("alice", "tok" * 20, "android")
    # The body as the server parsed it, in any key order: the canonical form is signed.
    reordered = dict(reversed(list(json.loads(request.body).items())))
    signed = SignedPayload(request.signature, reordered, b"ignored")
    assert signature_verifies(_pem(client), signed)


def test_signature_verifies_over_the_exact_raw_body(client):
    raw = json.dumps({"userId": "alice", "b": 1}, indent=2).encode()
    assert signature_verifies(_pem(client), SignedPayload(_der(client, raw), json.loads(raw), raw))


def test_signature_over_the_raw_body_does_not_verify_when_the_body_carries_it(client):
    # The body's signature field cannot be part of what it signs.
    raw = json.dumps({"userId": "alice"}, indent=2).encode()
    payload = json.loads(raw)
    assert not signature_verifies(_pem(client), SignedPayload(_der(client, raw), payload, None))


def test_signature_refuses_a_tampered_field(client):
    request = client.register("alice", "tok" * 20, "android")
    tampered = json.loads(request.body) | {"userId": "mallory"}
    signed = SignedPayload(request.signature, tampered, json.dumps(tampered).encode())
    assert not signature_verifies(_pem(client), signed)


def test_signature_refuses_another_key(client):
    request = client.register("alice", "tok" * 20, "android")
    other = public_pem(GatewayClient.generate("x").registration_key)
    signed = SignedPayload(request.signature, request.payload, request.body)
    assert not signature_verifies(other, signed)


def test_signature_refuses_another_canonicalisation(client):
    payload = client.envelope({"userId": "alice", "title": "t", "body": "b"})
    pretty = json.dumps(payload, indent=1).encode()
    # Signed over a pretty-printed form, sent canonically: neither form verifies.
    request = client.signed("/push/webhook", payload)
    signed = SignedPayload(_der(client, pretty), payload, request.body)
    assert not signature_verifies(_pem(client), signed)


def test_signature_refuses_garbage_without_raising(client):
    assert not signature_verifies(_pem(client), SignedPayload("not base64!", {"a": 1}, b"{}"))
    assert not signature_verifies("not a key", SignedPayload("AAAA", {"a": 1}, b"{}"))


# ---------------------------------------------------------------- takos' canonical form

TAKOS_CASES = {
    "flat": ({"b": "2", "a": "1", "ü": "x"}, '{"a":"1","b":"2","ü":"x"}'),
    "nested object": ({"n": {"z": None, "a": 0, "m": True}}, '{"n":{"a":0,"m":true,"z":null}}'),
    "array of scalars and objects": (
        {"a": [1, "x", None, {"b": 1, "a": 2}]},
        '{"a":[1,"x",null,{"a":2,"b":1}]}',
    ),
    "array in an array": ({"a": [[2, 3], []]}, '{"a":[{"0":2,"1":3},{}]}'),
    "index keys sort as strings": (
        {"a": [list(range(11))]},
        '{"a":[{"0":0,"1":1,"10":10,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"9":9}]}',
    ),
    "numbers and escapes": (
        {"f": 1.0, "e": 1e21, "s": 'q"\\\n\u0001\u2028', "empty": {}},
        '{"e":1e+21,"empty":{},"f":1,"s":"q\\"\\\\\\n\\u0001\u2028"}',
    ),
    "utf-16 order": ({"\U0001f600": 1, "\uff61": 2}, '{"\U0001f600":1,"\uff61":2}'),
}


@pytest.mark.parametrize("case", sorted(TAKOS_CASES))
def test_takos_canonical_writes_what_takos_signs(case):
    value, expected = TAKOS_CASES[case]
    assert takos_canonical(value) == expected.encode()


def test_signed_messages_try_rfc8785_then_takos_form_then_the_raw_body():
    payload = {"a": [[1]], "b": "x"}
    messages = signed_messages(SignedPayload("sig", payload, b"raw"))
    assert messages == [b'{"a":[[1]],"b":"x"}', b'{"a":[{"0":1}],"b":"x"}', b"raw"]
    # forms that agree are tried once
    assert signed_messages(SignedPayload("sig", {"b": "x"}, None)) == [b'{"b":"x"}']
