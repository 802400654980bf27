"""Per-app push configuration over HTTP, through the local stack."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

pytestmark = pytest.mark.e2e


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(api, **extra) -> dict:
    now = int(time.time())
    return {
        "iss": api.stack.issuer_url,
        "sub": "ops",
        "scope": "push:admin",
        "iat": now,
        "exp": now + 300,
    } | extra


def test_config_admin_enables_app_and_reads_keys_back(api):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    patched = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"enabled": True})
    config = api.config(app_id).json()
    public = api.request("GET", f"/push/vapid-public-key/{app_id}").json()

    assert patched.status_code == 200
    assert patched.json() == config
    point = base64.urlsafe_b64decode(config["vapid_public_key"] + "==")
    assert len(point) == 65
    assert point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve
    assert config["webhook_secret"].startswith("whsec_")
    assert len(base64.b64decode(config["webhook_secret"][len("whsec_") :])) == 32
    assert config["daily_quota"] == 10000
    assert (config["device_count"], config["notifications_today"]) == (0, 0)
    assert public == {"publicKey": config["vapid_public_key"]}


def test_config_first_call_creates_a_disabled_app_without_keys(api):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    created = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"daily_quota": 5})
    assert created.status_code == 200
    assert created.json()["enabled"] is False
    assert created.json()["vapid_public_key"] is None
    assert api.request("GET", f"/push/vapid-public-key/{app_id}").status_code == 404


def test_config_keys_survive_disable_and_reenable(api):
    app_id = api.new_app()
    first = api.config(app_id).json()
    api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"enabled": False})
    assert api.request("GET", f"/push/vapid-public-key/{app_id}").status_code == 404
    api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"enabled": True})
    again = api.config(app_id).json()
    assert again["vapid_public_key"] == first["vapid_public_key"]
    assert again["webhook_secret"] == first["webhook_secret"]


def test_config_app_service_token_with_push_config_manages_its_own_app(api):
    app_id = api.new_app()
    own = api.token(app_id, scope="push:config")
    response = api.request(
        "PATCH",
        f"/push/config/{app_id}",
        own,
        json={
            "daily_quota": 42,
            "vapid_subject": "mailto:ops@pushgate.dev",
            "webhook_url": "http://127.0.0.1:9/hook",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["daily_quota"], body["vapid_subject"], body["webhook_url"]) == (
        42,
        "mailto:ops@pushgate.dev",
        "http://127.0.0.1:9/hook",
    )


def test_config_webhook_url_null_removes_it(api):
    app_id = api.new_app(webhook_url="http://127.0.0.1:9/hook")
    response = api.request("PATCH", f"/push/config/{app_id}", api.admin, json={"webhook_url": None})
    assert response.json()["webhook_url"] is None


def test_config_unknown_app_is_404(api):
    response = api.config("no-such-app-" + uuid.uuid4().hex[:6])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({"daily_quota": 0}, "daily_quota"),
        ({"daily_quota": 100_000_001}, "daily_quota"),
        ({"daily_quota": "10"}, "daily_quota"),
        ({"vapid_subject": "ops@example.com"}, "vapid_subject"),
        ({"vapid_subject": "http://example.com"}, "vapid_subject"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_config_refuses_bad_fields_and_changes_nothing(api, body, fragment):
    app_id = api.new_app()
    before = api.config(app_id).json()
    response = api.request("PATCH", f"/push/config/{app_id}", api.admin, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert fragment in response.json()["error"]["message"]
    assert api.config(app_id).json() == before


@pytest.mark.parametrize(
    "subject",
    [
        "mailto:x@localhost",
        "mailto:push-admin@pushgate.invalid",
        "mailto:ops@printer.local",
        "mailto:ops@ci.test",
        "mailto:ops@example.com",
        "https://example.org/contact",
        "https://localhost:8443",
    ],
)
def test_config_refuses_a_placeholder_vapid_subject_and_changes_nothing(api, subject):
    app_id = api.new_app()
    before = api.config(app_id).json()

    response = api.request(
        "PATCH", f"/push/config/{app_id}", api.admin, json={"vapid_subject": subject}
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "vapid_subject: must be a mailto: address or an https: URL on a real domain "
        "(not localhost, .invalid, .local, .test or example.*): Apple's push service refuses "
        "placeholders",
    }
    assert api.config(app_id).json() == before


def test_config_refuses_non_json_body(api):
    app_id = api.new_app()
    response = api.request(
        "PATCH",
        f"/push/config/{app_id}",
        api.admin,
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "body: is not valid JSON"


def test_config_refuses_bad_app_id(api):
    response = api.request("PATCH", "/push/config/bad%20id", api.admin, json={})
    assert response.status_code == 400


def test_config_responses_carry_the_request_id(api):
    response = api.request("GET", "/push/vapid-public-key/nope")
    assert response.headers["x-request-id"]
    assert response.headers["x-request-id"] == response.headers["apigw-requestid"]


def test_config_unknown_route_is_json_404(api):
    response = api.request("GET", "/push/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# ------------------------------------------------------------------ authentication


def _forged_tokens(api) -> dict[str, str | None]:
    issuer = api.stack.issuer
    other_key = ec.generate_private_key(ec.SECP256R1())
    public_pem = issuer._key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = _claims(api)
    hs_input = (
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode())
        + "."
        + _b64(json.dumps(claims).encode())
    )
    hs_signature = hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest()
    now = int(time.time())
    return {
        "no token": None,
        "malformed": "not.a.jwt",
        "alg none": _b64(json.dumps({"alg": "none", "kid": issuer.kid}).encode())
        + "."
        + _b64(json.dumps(claims).encode())
        + ".",
        "hs256 with public key": f"{hs_input}.{_b64(hs_signature)}",
        "expired": jwt.encode(
            _claims(api, iat=now - 900, exp=now - 600),
            issuer._key,
            algorithm="ES256",
            headers={"kid": issuer.kid},
        ),
        "not yet valid": jwt.encode(
            _claims(api, nbf=now + 600), issuer._key, algorithm="ES256", headers={"kid": issuer.kid}
        ),
        "unknown issuer": jwt.encode(
            _claims(api, iss="https://evil.example"),
            issuer._key,
            algorithm="ES256",
            headers={"kid": issuer.kid},
        ),
        "unknown kid": jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": "nope"}),
        "right kid, other key": jwt.encode(
            claims, other_key, algorithm="ES256", headers={"kid": issuer.kid}
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no token",
        "malformed",
        "alg none",
        "hs256 with public key",
        "expired",
        "not yet valid",
        "unknown issuer",
        "unknown kid",
        "right kid, other key",
    ],
)
def test_config_refuses_bad_tokens_with_401_and_changes_nothing(api, case):
    app_id = api.new_app(daily_quota=7)
    token = _forged_tokens(api)[case]
    response = api.request("PATCH", f"/push/config/{app_id}", token, json={"daily_quota": 99})
    assert response.status_code == 401, response.text
    expected = "unauthorized" if case == "no token" else "invalid_token"
    assert response.json()["error"]["code"] == expected
    assert api.config(app_id).json()["daily_quota"] == 7


@pytest.mark.parametrize(
    ("case", "sub", "scope", "aud"),
    [
        ("user token", "alice", None, "APP"),
        ("service token for another app", "other-app", "push:config", None),
        ("service token without push:config", "APP", "push:send", None),
    ],
)
def test_config_refuses_wrong_principals_with_403_and_changes_nothing(api, case, sub, scope, aud):
    app_id = api.new_app(daily_quota=7)
    token = api.token(
        sub.replace("APP", app_id), scope=scope, aud=[aud.replace("APP", app_id)] if aud else None
    )
    patched = api.request("PATCH", f"/push/config/{app_id}", token, json={"daily_quota": 99})
    read = api.request("GET", f"/push/config/{app_id}", token)
    assert (patched.status_code, read.status_code) == (403, 403), case
    assert api.config(app_id).json()["daily_quota"] == 7


# ------------------------------------------------------------------ SSRF (production rules)

UNSAFE_WEBHOOKS = [
    "http://hooks.example.com/receipts",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "https://192.168.1.20/hook",
    "https://172.31.255.1/hook",
    "https://100.64.1.1/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://localhost/hook",
    "https://user:secret@hooks.example.com/hook",
    "https://hooks.example.com@127.0.0.1/hook",
    "ftp://hooks.example.com/hook",
    "https://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", UNSAFE_WEBHOOKS)
def test_config_refuses_unsafe_webhook_urls_and_stores_nothing(strict_api, url):
    app_id = strict_api.new_app()
    response = strict_api.request(
        "PATCH", f"/push/config/{app_id}", strict_api.admin, json={"webhook_url": url}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "unsafe_url"
    assert "secret" not in response.text
    assert strict_api.config(app_id).json()["webhook_url"] is None


# ------------------------------------------------------------------ secrets at rest and in logs


def test_config_secrets_never_stored_or_logged_in_plaintext(api):
    app_id = api.new_app(webhook_url="http://127.0.0.1:9/hook")
    config = api.config(app_id).json()
    secret = config["webhook_secret"]
    dynamodb = api.stack.client("dynamodb")
    dumped = []
    for table in dynamodb.list_tables()["TableNames"]:
        for item in dynamodb.scan(TableName=table)["Items"]:
            dumped.append(json.dumps(item, default=str))
    everything = "\n".join(dumped)
    assert app_id in everything  # the scan did see the app
    assert secret not in everything
    assert secret[len("whsec_") :] not in everything
    logs = "".join(p.read_text(errors="replace") for p in api.stack.log_dir.glob("*.log"))
    assert "audit" in logs  # the audit line was written
    for forbidden in (secret, secret[len("whsec_") :], api.admin):
        assert forbidden not in logs


def test_config_changes_write_an_audit_line_naming_fields_only(api):
    app_id = api.new_app(daily_quota=3)
    lines = [
        json.loads(line)
        for p in api.stack.log_dir.glob("*.log")
        for line in p.read_text(errors="replace").splitlines()
        if line.startswith("{") and '"audit"' in line and app_id in line
    ]
    assert lines, "no audit line"
    assert lines[-1]["actor_type"] == "admin"
    assert lines[-1]["actor"] == "ops"
    assert set(lines[-1]["fields"]) >= {"daily_quota", "enabled", "vapid_keypair", "webhook_secret"}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_config_refuses_non_json_content_types_with_415(api, content_type):
    app_id = api.new_app(daily_quota=7)
    response = api.request(
        "PATCH",
        f"/push/config/{app_id}",
        api.admin,
        content=b'{"daily_quota": 99}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert api.config(app_id).json()["daily_quota"] == 7


def test_config_null_quota_and_enabled_return_to_their_defaults(api):
    app_id = api.new_app(daily_quota=7)
    patched = api.request(
        "PATCH", f"/push/config/{app_id}", api.admin, json={"daily_quota": None, "enabled": None}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["daily_quota"], patched.json()["enabled"]) == (10_000, False)
    assert api.config(app_id).json()["daily_quota"] == 10_000


def test_config_without_an_ntfy_server_the_managed_ntfy_routes_answer_404(api):
    app_id = api.new_app()
    token = api.token("alice", aud=[app_id])

    answers = [
        api.request(method, f"/push/ntfy/{app_id}{suffix}", token)
        for method, suffix in (("POST", ""), ("GET", ""), ("POST", "/test"), ("DELETE", ""))
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (404, "ntfy_not_configured")
    ] * 4
