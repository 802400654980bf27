"""The abuse list, run on every build: forged and broken tokens, tokens of another issuer, SSRF
addresses, forged and replayed signed payloads, and malformed HTTP each get their exact 4xx
status and code in the one error shape and change nothing (app config, device counts,
notifications_today and instances are compared before and after)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clients.gateway_client import GatewayClient, canonical_json, sign
from tests.e2e.conftest import Api
from tests.standins.wellknown import WellKnownServer

pytestmark = pytest.mark.e2e

FCM_TOKEN = "abuse:APA91b" + "a" * 120
ONE_MB = 1024 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def assert_error_shape(response: httpx.Response, status: int, code: str) -> None:
    """The response is exactly `status` with error `code`, in the one error shape."""
    assert (response.status_code, response.text[:300]) == (status, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str), body
    assert body["error"]["code"].replace("_", "").isalnum(), body
    assert body["error"]["code"] == body["error"]["code"].lower(), body
    assert isinstance(body["error"]["message"], str), body
    assert body["error"]["message"], body
    assert body["error"]["code"] == code, body


@dataclass
class Target:
    """An app with one device and a day's sends, whose state every abuse must leave alone:
    after each test it must still be what it was when the module set it up."""

    api: Api
    app_id: str
    baseline: dict[str, Any] | None = None

    def state(self) -> dict[str, Any]:
        config = self.api.config(self.app_id).json()
        devices = self.api.request("GET", f"/push/devices/{self.app_id}", self.api.admin).json()
        return {"config": config, "devices": devices}

    def assert_unchanged(self) -> None:
        if self.baseline is None:
            self.baseline = self.state()
        assert self.state() == self.baseline


def make_target(api: Api) -> Target:
    app_id = api.new_app(daily_quota=1000, vapid_subject="mailto:abuse@pushgate.dev")
    token = api.token("victim", aud=[app_id])
    registered = api.request(
        "POST",
        "/push/devices/register",
        token,
        json={"app_id": app_id, "platform": "android", "push_token": FCM_TOKEN},
    )
    assert registered.status_code == 201, registered.text
    sent = api.request(
        "POST",
        "/push/send",
        api.token(app_id, scope="push:send"),
        json={"user_id": "nobody", "title": "t", "body": "b"},
    )
    assert sent.status_code == 202, sent.text
    return Target(api, app_id)


@pytest.fixture(scope="module")
def target(api: Api) -> Target:
    return make_target(api)


@pytest.fixture
def unchanged(target: Target) -> Iterator[Target]:
    """The target, and a check after the test that its state did not move."""
    if target.baseline is None:
        target.baseline = target.state()
    yield target
    target.assert_unchanged()


# -- JWT attacks ----------------------------------------------------------------------------


def _issuer_public_key(api: Api) -> ec.EllipticCurvePublicKey:
    jwk = api.http.get("/_local/jwks.json").json()["keys"][0]
    key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    encode = lambda part: b64url(json.dumps(part, separators=(",", ":")).encode())  # noqa: E731
    return f"{encode(header)}.{encode(claims)}.{b64url(signature)}"


def _hmac_token(claims: dict[str, Any], secret: bytes, header: dict[str, Any]) -> str:
    unsigned = _unsigned(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{b64url(signature)}"


ATTACKER_KEY = ec.generate_private_key(ec.SECP256R1())


def _attacker(claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, ATTACKER_KEY, algorithm="ES256", headers=headers)


def _forged(api: Api, kind: str, claims: dict[str, Any]) -> str:
    now = int(time.time())
    iss = api.stack.issuer_url
    full = {"iss": iss, "iat": now, "nbf": now, "exp": now + 600, **claims}
    kid = api.stack.issuer.kid if api.stack.issuer else "dev"
    public_pem = _issuer_public_key(api).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mint = api.stack.mint_token
    forgeries: dict[str, Callable[[], str]] = {
        "alg_none": lambda: _unsigned({"alg": "none", "typ": "JWT"}, full),
        "alg_None_with_signature": lambda: _unsigned({"alg": "None", "kid": kid}, full, b"x" * 64),
        "hs256_with_the_public_key_pem": lambda: _hmac_token(
            full, public_pem, {"alg": "HS256", "typ": "JWT", "kid": kid}
        ),
        "hs256_with_the_jwks_json": lambda: _hmac_token(
            full,
            json.dumps(api.http.get("/_local/jwks.json").json()["keys"][0]).encode(),
            {"alg": "HS256", "kid": kid},
        ),
        "known_kid_wrong_key": lambda: _attacker(full, kid=kid),
        "kid_path_traversal": lambda: _attacker(full, kid="../../../../../../dev/null"),
        "kid_sql_injection": lambda: _attacker(full, kid="x' UNION SELECT 'secret' --"),
        "kid_huge": lambda: _attacker(full, kid="k" * 8000),
        "jku_to_attacker_keys": lambda: _attacker(full, kid="evil", jku="http://127.0.0.1:9/k"),
        "embedded_jwk": lambda: _attacker(
            full,
            jwk=json.loads(
                jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER_KEY.public_key())  # type: ignore[arg-type]
            ),
        ),
        "rs256_header_on_the_es256_key": lambda: _unsigned(
            {"alg": "RS256", "kid": kid}, full, b"\x00" * 256
        ),
        "expired": lambda: mint(
            claims["sub"],
            extra_claims={**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600},
        ),
        "not_yet_valid": lambda: mint(claims["sub"], extra_claims={**claims, "nbf": now + 3600}),
        "wrong_issuer": lambda: mint(
            claims["sub"], extra_claims={**claims, "iss": "https://evil.example/_local"}
        ),
        "issuer_with_suffix": lambda: mint(
            claims["sub"], extra_claims={**claims, "iss": iss + "x"}
        ),
        "no_issuer": lambda: jwt.encode(
            {k: v for k, v in full.items() if k != "iss"}, ATTACKER_KEY, algorithm="ES256"
        ),
        "huge_token": lambda: mint(claims["sub"], extra_claims={**claims, "pad": "p" * 200_000}),
        "garbage": lambda: "not.a.jwt",
        "five_segments": lambda: mint(claims["sub"], extra_claims=claims) + ".x.y",
        "truncated_signature": lambda: mint(claims["sub"], extra_claims=claims)[:-10],
        "non_json_header": lambda: b64url(b"\xff\xfe") + ".e30." + b64url(b"sig"),
        "issuer_is_a_list": lambda: _unsigned({"alg": "ES256", "kid": kid}, {**full, "iss": [iss]}),
        "another_trusted_issuer": lambda: mint(
            claims["sub"],
            extra_claims={k: v for k, v in claims.items() if k != "sub"},
            issuer="second",
        ),
    }
    return forgeries[kind]()


JWT_ATTACKS = [
    "alg_none",
    "alg_None_with_signature",
    "hs256_with_the_public_key_pem",
    "hs256_with_the_jwks_json",
    "known_kid_wrong_key",
    "kid_path_traversal",
    "kid_sql_injection",
    "kid_huge",
    "jku_to_attacker_keys",
    "embedded_jwk",
    "rs256_header_on_the_es256_key",
    "expired",
    "not_yet_valid",
    "wrong_issuer",
    "issuer_with_suffix",
    "no_issuer",
    "huge_token",
    "garbage",
    "five_segments",
    "truncated_signature",
    "non_json_header",
    "issuer_is_a_list",
    "another_trusted_issuer",
]
# What each role's attempt gets with the second development issuer's token: that issuer is
# trusted for user and service tokens only, the target app was created by the default one.
ANOTHER_ISSUER = {
    "admin_reconfigures": (403, "role_not_trusted"),
    "service_sends": (403, "issuer_not_trusted"),
    "user_registers": (403, "wrong_issuer"),
}


def _jwt_expected(attack: str, role: str) -> tuple[int, str]:
    if attack == "huge_token":  # too big for a header line: refused before any function
        return 431, "headers_too_large"
    if attack == "another_trusted_issuer":
        return ANOTHER_ISSUER[role]
    return 401, "invalid_token"


def _jwt_targets(app_id: str) -> dict[str, tuple[dict[str, Any], str, str, dict[str, Any]]]:
    """Who the forged token claims to be, and what it tries to do with that."""
    return {
        "admin_reconfigures": (
            {"sub": "ops", "scope": "push:admin"},
            "PATCH",
            f"/push/config/{app_id}",
            {"enabled": False, "daily_quota": 1, "webhook_url": None},
        ),
        "service_sends": (
            {"sub": app_id, "scope": "push:send push:config"},
            "POST",
            "/push/send/bulk",
            {"user_ids": ["victim"], "title": "t", "body": "b"},
        ),
        "user_registers": (
            {"sub": "mallory", "aud": [app_id]},
            "POST",
            "/push/devices/register",
            {"app_id": app_id, "platform": "android", "push_token": "m:APA91b" + "m" * 120},
        ),
    }


@pytest.mark.parametrize("role", ["admin_reconfigures", "service_sends", "user_registers"])
@pytest.mark.parametrize("attack", JWT_ATTACKS)
def test_abuse_forged_or_broken_jwts_are_refused(api: Api, unchanged: Target, attack, role):
    claims, method, path, body = _jwt_targets(unchanged.app_id)[role]
    token = _forged(api, attack, claims)
    response = api.request(method, path, token, json=body)
    assert_error_shape(response, *_jwt_expected(attack, role))


# -- SSRF -----------------------------------------------------------------------------------

UNSAFE_URLS = [
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/hook",
    "https://127.1/hook",
    "https://2130706433/hook",
    "https://0x7f000001/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://10.0.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://localhost/hook",
    "https://user:pass@example.com/hook",
    "http://example.com/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/_HELO",
    "https://example.com\\@127.0.0.1/hook",
]


@pytest.fixture(scope="module")
def strict_target(strict_api: Api) -> Target:
    target = Target(strict_api, strict_api.new_app())
    target.baseline = target.state()
    return target


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_abuse_unsafe_webhook_urls_are_refused(strict_target: Target, url):
    api = strict_target.api
    response = api.request(
        "PATCH", f"/push/config/{strict_target.app_id}", api.admin, json={"webhook_url": url}
    )
    assert_error_shape(response, 400, "unsafe_url")
    strict_target.assert_unchanged()


WEBPUSH_ENDPOINTS = [
    *(url.replace("/hook", "/push/x") for url in UNSAFE_URLS[:14]),
    "https://fcm.googleapis.com.evil.example/fcm/send/x",
    "https://fcm.googleapis.com@evil.example/fcm/send/x",
    "https://evil.example/fcm.googleapis.com/x",
    "http://fcm.googleapis.com/fcm/send/x",
    "https://evilfcm.googleapis.com.example/x",
]
NTFY_URLS = [
    *(url.replace("/hook", "/topic") for url in UNSAFE_URLS),
    "https://ntfy.sh",  # no topic
    "https://ntfy.sh/../../admin",
]


@pytest.mark.parametrize(
    ("platform", "push_token"),
    [
        *(
            ("web", {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}})
            for endpoint in WEBPUSH_ENDPOINTS
        ),
        *(("ntfy", {"url": url}) for url in NTFY_URLS),
    ],
)
def test_abuse_unsafe_push_addresses_are_refused(strict_target: Target, platform, push_token):
    api = strict_target.api
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token("ssrf-user", aud=[strict_target.app_id]),
        json={"app_id": strict_target.app_id, "platform": platform, "push_token": push_token},
    )
    assert_error_shape(response, 400, "unsafe_url")
    strict_target.assert_unchanged()


def test_abuse_web_push_endpoint_that_is_not_a_url_is_refused(unchanged: Target):
    api = unchanged.api
    response = api.request(
        "POST",
        "/push/devices/register",
        api.token("victim", aud=[unchanged.app_id]),
        json={
            "app_id": unchanged.app_id,
            "platform": "web",
            "push_token": {"endpoint": "https://[fcm.googleapis.com/fcm/send/x"},
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "unsafe_url",
        "message": "push_token.endpoint is not a valid URL",
    }


# -- signed payloads (gateway clients) ------------------------------------------------------


@dataclass
class Gateway:
    api: Api
    client: GatewayClient
    server: WellKnownServer

    def instance_state(self) -> dict[str, Any]:
        path = f"/push/instances/{self.client.instance}"
        return self.api.request("GET", path, self.api.admin).json()

    def post(self, path: str, body: bytes, signature: str | None) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if signature is not None:
            headers["x-push-signature"] = signature
        return self.api.request("POST", path, content=body, headers=headers)


@pytest.fixture(scope="module")
def gateway(api: Api) -> Iterator[Gateway]:
    with WellKnownServer() as server:
        client = GatewayClient.generate(f"abuse-{uuid.uuid4().hex[:8]}.example")
        server.publish(client.wellknown())
        api.enrol_instance(client.instance, server.origin)
        gateway = Gateway(api, client, server)
        # One valid registration and event, so the tenant app exists and has state to keep.
        first = client.register("victim", FCM_TOKEN, "android")
        assert gateway.post(first.path, first.body, first.signature).status_code == 201
        event = client.event("victim", "t", "b")
        assert gateway.post(event.path, event.body, event.signature).status_code == 202
        yield gateway


def _signed_attack(client: GatewayClient, attack: str) -> tuple[str, bytes, str | None]:
    """(path, body, X-Push-Signature) of one forged, tampered or out-of-window request."""
    now = time.time()
    mallory = ("mallory", "m:APA91b" + "m" * 120, "android")
    valid = client.register(*mallory)
    tampered = {
        "tampered_user": ("userId", "victim"),
        "tampered_token": ("token", "x:APA91b" + "x" * 120),
        "tampered_action": ("action", "deregister"),
        "tampered_instance": ("instance", "other.example"),
    }
    timings = {
        "expired": {"now": now - 3600, "lifetime": 300},
        "issued_in_the_future": {"now": now + 3600, "lifetime": 300},
        "lifetime_over_ten_minutes": {"now": now, "lifetime": 3600},
    }
    if attack in tampered:
        field, value = tampered[attack]
        return valid.path, canonical_json({**valid.payload, field: value}), valid.signature
    if attack in timings:
        signed = client.register(*mallory, **timings[attack])
    elif attack == "unknown_instance":
        signed = client.signed(valid.path, {**valid.payload, "instance": "nobody.example"})
    elif attack == "deregister_someone_else":
        signed = client.deregister("victim-2", FCM_TOKEN, "android")
    elif attack == "event_signed_with_the_registration_key":
        signed = client.event("victim", "t", "b")
    else:
        signed = valid
    forged: dict[str, str | None] = {
        "no_signature": None,
        "signature_by_another_key": sign(ec.generate_private_key(ec.SECP256R1()), signed.body),
        "signature_not_base64": "%%%not-base64%%%",
        "signature_huge": "A" * 20_000,
        "event_signed_with_the_registration_key": sign(client.registration_key, signed.body),
    }
    signature = forged.get(attack, signed.signature)
    return signed.path, signed.body, signature


SIGNED_ATTACKS = {
    "no_signature": (401, "missing_signature"),
    "signature_by_another_key": (401, "invalid_signature"),
    "signature_not_base64": (401, "invalid_signature"),
    "signature_huge": (400, "invalid_request"),
    "tampered_user": (401, "invalid_signature"),
    "tampered_token": (401, "invalid_signature"),
    "tampered_action": (401, "invalid_signature"),
    "tampered_instance": (404, "unknown_instance"),
    "event_signed_with_the_registration_key": (401, "invalid_signature"),
    "expired": (401, "expired"),
    "issued_in_the_future": (401, "not_yet_valid"),
    "lifetime_over_ten_minutes": (401, "lifetime_too_long"),
    "unknown_instance": (404, "unknown_instance"),
    "deregister_someone_else": (404, "not_found"),
}


@pytest.mark.parametrize("attack", sorted(SIGNED_ATTACKS))
def test_abuse_forged_signed_payloads_are_refused(gateway: Gateway, attack):
    before = gateway.instance_state()
    path, body, signature = _signed_attack(gateway.client, attack)
    response = gateway.post(path, body, signature)
    assert_error_shape(response, *SIGNED_ATTACKS[attack])
    assert gateway.instance_state() == before


def test_abuse_replayed_signed_payloads_are_refused(gateway: Gateway):
    signed = gateway.client.register("replayed", "r:APA91b" + "r" * 120, "android")
    assert gateway.post(signed.path, signed.body, signed.signature).status_code == 201
    before = gateway.instance_state()
    replay = gateway.post(signed.path, signed.body, signed.signature)
    event = gateway.client.event("victim", "t", "b")
    assert gateway.post(event.path, event.body, event.signature).status_code == 202
    before_event = gateway.instance_state()
    replayed_event = gateway.post(event.path, event.body, event.signature)
    assert_error_shape(replay, 409, "replayed_nonce")
    assert_error_shape(replayed_event, 409, "replayed_nonce")
    assert before["device_count"] == gateway.instance_state()["device_count"]
    assert gateway.instance_state() == before_event


OUT_OF_RANGE_TIMESTAMPS = {
    "offset_past_year_9999": ("expiresAt", "9999-12-31T23:59:59-23:59", "not a valid date"),
    "offset_before_year_1": ("issuedAt", "0001-01-01T00:00:00+23:59", "not a valid date"),
    "400_digit_integer": ("expiresAt", int("9" * 400), "not a valid epoch time"),
}


@pytest.mark.parametrize("path", ["/push/register", "/push/webhook"])
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE_TIMESTAMPS))
def test_abuse_out_of_range_timestamps_are_refused_before_any_lookup(api: Api, path, case):
    field, value, reason = OUT_OF_RANGE_TIMESTAMPS[case]
    now = int(time.time())
    payload: dict[str, Any] = {
        "instance": "nobody.example",
        "userId": "victim",
        "issuedAt": now,
        "expiresAt": now + 300,
        "nonce": uuid.uuid4().hex,
        field: value,
    }
    if path == "/push/register":
        payload |= {"action": "register", "token": FCM_TOKEN, "platform": "android"}
    else:
        payload |= {"title": "t", "body": "b"}
    response = api.request(
        "POST",
        path,
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json", "x-push-signature": "A" * 86},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "invalid_timestamp",
        "message": f"{field} is {reason}",
    }


# -- malformed HTTP -------------------------------------------------------------------------


def _deep(levels: int) -> bytes:
    return b'{"title": ' + b"[" * levels + b"]" * levels + b', "body": "b", "user_id": "u"}'


def _http_attacks(app_id: str) -> dict[str, tuple[str, str, str, dict[str, Any]]]:
    """name -> (who, method, path, httpx request arguments)."""
    big = json.dumps({"user_id": "u", "title": "t" * ONE_MB, "body": "b"}).encode()
    json_type = {"content-type": "application/json"}
    register_body = {"app_id": app_id, "platform": "android", "push_token": "x:APA91b" + "x" * 120}
    return {
        "send_1mb_body": ("service", "POST", "/push/send", {"content": big, "headers": json_type}),
        "config_1mb_body": (
            "admin",
            "PATCH",
            f"/push/config/{app_id}",
            {
                "content": json.dumps({"vapid_subject": "mailto:" + "a" * ONE_MB}).encode(),
                "headers": json_type,
            },
        ),
        "register_1mb_body": (
            "user",
            "POST",
            "/push/devices/register",
            {
                "content": json.dumps({**register_body, "user_agent": "u" * ONE_MB}).encode(),
                "headers": json_type,
            },
        ),
        "send_nested_10000": (
            "service",
            "POST",
            "/push/send",
            {"content": _deep(10_000), "headers": json_type},
        ),
        "config_nested_10000": (
            "admin",
            "PATCH",
            f"/push/config/{app_id}",
            {
                "content": b'{"webhook_url": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
                "headers": json_type,
            },
        ),
        "register_nested_100000": (
            "user",
            "POST",
            "/push/devices/register",
            {"content": b"[" * 100_000 + b"]" * 100_000, "headers": json_type},
        ),
        "send_invalid_utf8": (
            "service",
            "POST",
            "/push/send",
            {
                "content": b'{"user_id": "u", "title": "\xff\xfe\xc3", "body": "b"}',
                "headers": json_type,
            },
        ),
        "config_invalid_utf8": (
            "admin",
            "PATCH",
            f"/push/config/{app_id}",
            {"content": b'{"vapid_subject": "mailto:\xc0\xaf@example.com"}', "headers": json_type},
        ),
        "register_lone_surrogate": (
            "user",
            "POST",
            "/push/devices/register",
            {
                "content": json.dumps({**register_body, "user_agent": "\ud800"}).encode(),
                "headers": json_type,
            },
        ),
        "send_as_text_plain": (
            "service",
            "POST",
            "/push/send",
            {
                "content": b'{"user_id": "u", "title": "t", "body": "b"}',
                "headers": {"content-type": "text/plain"},
            },
        ),
        "send_as_form": (
            "service",
            "POST",
            "/push/send",
            {
                "content": b"user_id=u&title=t&body=b",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
        ),
        "config_as_multipart": (
            "admin",
            "PATCH",
            f"/push/config/{app_id}",
            {
                "content": b'--x\r\nContent-Disposition: form-data; name="enabled"\r\n\r\n'
                b"false\r\n--x--",
                "headers": {"content-type": "multipart/form-data; boundary=x"},
            },
        ),
        "register_as_xml": (
            "user",
            "POST",
            "/push/devices/register",
            {
                "content": b"<device><app_id>x</app_id></device>",
                "headers": {"content-type": "application/xml"},
            },
        ),
        "send_json_array": (
            "service",
            "POST",
            "/push/send",
            {"content": b"[]", "headers": json_type},
        ),
        "send_json_scalar": (
            "service",
            "POST",
            "/push/send",
            {"content": b"1e999999", "headers": json_type},
        ),
        "send_duplicate_keys_nan": (
            "service",
            "POST",
            "/push/send",
            {
                "content": b'{"user_id": "u", "title": "t", "body": "b", "ttl": NaN}',
                "headers": json_type,
            },
        ),
        "huge_header_value": (
            "service",
            "POST",
            "/push/send",
            {
                "json": {"user_id": "u", "title": "t", "body": "b"},
                "headers": {"x-filler": "f" * 100_000},
            },
        ),
        "huge_idempotency_key": (
            "service",
            "POST",
            "/push/send",
            {
                "json": {"user_id": "u", "title": "t", "body": "b"},
                "headers": {"idempotency-key": "k" * 20_000},
            },
        ),
        "many_headers": (
            "admin",
            "PATCH",
            f"/push/config/{app_id}",
            {"json": {"enabled": False}, "headers": {f"x-h{i}": "v" * 100 for i in range(400)}},
        ),
        "huge_path_parameter": (
            "admin",
            "PATCH",
            f"/push/config/{'a' * 20_000}",
            {"json": {"enabled": True}},
        ),
        "path_traversal_parameter": ("admin", "GET", f"/push/config/..%2F..%2F{app_id}", {}),
        "huge_query_string": (
            "admin",
            "GET",
            f"/push/devices/{app_id}",
            {"params": {"cursor": "c" * 20_000}},
        ),
        "bad_cursor": ("admin", "GET", f"/push/devices/{app_id}", {"params": {"cursor": "!!"}}),
        "bad_limit": ("admin", "GET", f"/push/devices/{app_id}", {"params": {"limit": "-1"}}),
        "unknown_method": ("admin", "TRACE", f"/push/config/{app_id}", {}),
        "method_not_routed": ("admin", "DELETE", f"/push/config/{app_id}", {}),
    }


HTTP_ATTACKS = list(_http_attacks("x"))
# The expected answer to each; anything not listed is 400 invalid_request.
HTTP_EXPECTED = {
    "bad_cursor": (400, "invalid_cursor"),
    "send_as_text_plain": (415, "unsupported_media_type"),
    "send_as_form": (415, "unsupported_media_type"),
    "config_as_multipart": (415, "unsupported_media_type"),
    "register_as_xml": (415, "unsupported_media_type"),
    "huge_header_value": (431, "headers_too_large"),
    "many_headers": (431, "headers_too_large"),
    "unknown_method": (404, "not_found"),
    "method_not_routed": (404, "not_found"),
}


@pytest.mark.parametrize("attack", HTTP_ATTACKS)
def test_abuse_malformed_requests_are_refused(api: Api, unchanged: Target, attack):
    who, method, path, arguments = _http_attacks(unchanged.app_id)[attack]
    token = {
        "admin": api.admin,
        "service": api.token(unchanged.app_id, scope="push:send push:config"),
        "user": api.token("victim", aud=[unchanged.app_id]),
    }[who]
    response = api.request(method, path, token, **arguments)
    assert_error_shape(response, *HTTP_EXPECTED.get(attack, (400, "invalid_request")))


def _adversarial_json(prefix: str) -> bytes:
    """1 MB: `prefix`, then an escaped quote over and over in a string that never closes (a
    string-stripping regex retried at every quote took 38 s over 64 KB of it)."""
    return (prefix + '"' + '\\"' * ((ONE_MB - len(prefix) - 1) // 2)).encode()


@pytest.mark.parametrize("path", ["/push/webhook", "/push/register"])
@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("[" * 33, "body: is nested deeper than 32 levels"),
        ("[]" + "[" * 32, "body: is not valid JSON"),
    ],
    ids=["deeper_than_32", "unterminated_string_at_depth_32"],
)
def test_abuse_adversarial_1mb_json_is_refused_before_authentication(
    api: Api, unchanged: Target, path, prefix, message
):
    response = api.request(
        "POST",
        path,
        content=_adversarial_json(prefix),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400, response.text[:300]
    assert response.json() == {"error": {"code": "invalid_request", "message": message}}
