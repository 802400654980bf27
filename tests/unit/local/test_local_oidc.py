"""The development issuer's browser sign-in: authorization code + PKCE (RFC 6749 §4.1,
RFC 7636), refusing what an authorization server must refuse."""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

import local.oidc
from local.apigw import HttpRequest, HttpResponse
from local.issuer import DevIssuer
from local.oidc import CODE_TTL, AuthorizationServer, s256

ISSUER = "http://127.0.0.1:3000/_local"
REDIRECT = "http://127.0.0.1:3000/console/"
FORM = [("content-type", "application/x-www-form-urlencoded")]


@pytest.fixture
def server() -> AuthorizationServer:
    return AuthorizationServer(DevIssuer(ISSUER))


def _verifier() -> str:
    return secrets.token_urlsafe(48)


def _query(verifier: str, **changes: str | None) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": "pushgate-console",
        "redirect_uri": REDIRECT,
        "scope": "openid push:admin",
        "state": "st-1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    } | changes
    return {k: v for k, v in query.items() if v is not None}


def _get(server: AuthorizationServer, query: dict[str, str]) -> HttpResponse:
    return server.authorize(HttpRequest("GET", f"/_local/authorize?{urlencode(query)}", []))


def _submit(server: AuthorizationServer, fields: dict[str, str]) -> HttpResponse:
    body = urlencode(fields).encode()
    return server.authorize(HttpRequest("POST", "/_local/authorize", FORM, body))


def _location(response: HttpResponse) -> tuple[str, dict[str, str]]:
    (location,) = [v for k, v in response.headers if k == "location"]
    parts = urlsplit(location)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return base, {k: v[0] for k, v in parse_qs(parts.query).items()}


def _code(server: AuthorizationServer, verifier: str, **fields: str) -> str:
    response = _submit(server, _query(verifier) | {"subject": "ops"} | fields)
    assert response.status == 303
    return _location(response)[1]["code"]


def _exchange(server: AuthorizationServer, **fields: str) -> HttpResponse:
    body = urlencode(fields).encode()
    return server.token(HttpRequest("POST", "/_local/oauth/token", FORM, body))


def _exchange_fields(code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "pushgate-console",
        "code_verifier": verifier,
    }


def _json(response: HttpResponse) -> dict:
    return json.loads(response.body)


def test_s256_is_rfc_7636_appendix_b() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_discovery_names_both_endpoints_and_s256_only(server: AuthorizationServer) -> None:
    assert server.discovery == {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/oauth/token",
        "jwks_uri": f"{ISSUER}/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "push:admin", "push:config", "push:send"],
    }


def test_the_form_carries_the_request_and_labels_every_input(server: AuthorizationServer) -> None:
    verifier = _verifier()
    page = _get(server, _query(verifier))
    text = page.body.decode()

    assert page.status == 200
    assert dict(page.headers)["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in dict(page.headers)["content-security-policy"]
    assert f'name="code_challenge" value="{s256(verifier)}"' in text
    for field in ("subject", "scope", "audience"):
        assert f'<label for="{field}">' in text
        assert f'id="{field}" name="{field}"' in text
    assert "<script" not in text


def test_the_form_escapes_what_the_query_carries(server: AuthorizationServer) -> None:
    page = _get(server, _query(_verifier(), state='"><script>alert(1)</script>'))

    assert page.status == 200
    assert "<script>" not in page.body.decode()
    assert "&quot;&gt;&lt;script&gt;" in page.body.decode()


def test_code_exchange_mints_the_chosen_subject_scope_and_audience(
    server: AuthorizationServer,
) -> None:
    verifier = _verifier()
    response = _submit(
        server, _query(verifier) | {"subject": "alice", "scope": "openid", "audience": "a1 a2"}
    )
    base, params = _location(response)
    answer = _exchange(server, **_exchange_fields(params["code"], verifier))
    body = _json(answer)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})

    assert (response.status, base, params["state"]) == (303, REDIRECT, "st-1")
    assert answer.status == 200
    assert ("cache-control", "no-store") in answer.headers
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "openid")
    assert (claims["iss"], claims["sub"], claims["aud"]) == (ISSUER, "alice", ["a1", "a2"])
    assert claims["scope"] == "openid"


def test_a_code_is_single_use(server: AuthorizationServer) -> None:
    verifier = _verifier()
    code = _code(server, verifier)

    first = _exchange(server, **_exchange_fields(code, verifier))
    second = _exchange(server, **_exchange_fields(code, verifier))

    assert first.status == 200
    assert (second.status, _json(second)["error"]) == (400, "invalid_grant")


def test_a_wrong_verifier_burns_the_code(server: AuthorizationServer) -> None:
    verifier = _verifier()
    code = _code(server, verifier)

    wrong = _exchange(server, **_exchange_fields(code, _verifier()))
    right = _exchange(server, **_exchange_fields(code, verifier))

    assert (wrong.status, _json(wrong)["error"]) == (400, "invalid_grant")
    assert (right.status, _json(right)["error"]) == (400, "invalid_grant")


def test_a_code_for_another_redirect_uri_is_refused(server: AuthorizationServer) -> None:
    verifier = _verifier()
    code = _code(server, verifier)
    fields = _exchange_fields(code, verifier) | {"redirect_uri": f"{REDIRECT}account"}

    answer = _exchange(server, **fields)

    assert (answer.status, _json(answer)["error"]) == (400, "invalid_grant")


def test_an_expired_code_is_refused(server: AuthorizationServer, monkeypatch) -> None:
    verifier = _verifier()
    code = _code(server, verifier)
    later = local.oidc.time.monotonic() + CODE_TTL + 1
    monkeypatch.setattr(local.oidc.time, "monotonic", lambda: later)

    answer = _exchange(server, **_exchange_fields(code, verifier))

    assert (answer.status, _json(answer)["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"code_verifier": "short"}, 400, "invalid_request"),
        ({"code": ""}, 400, "invalid_request"),
    ],
)
def test_token_requests_that_are_not_a_valid_exchange_are_refused(
    server: AuthorizationServer, fields: dict[str, str], status: int, error: str
) -> None:
    verifier = _verifier()
    code = _code(server, verifier)

    answer = _exchange(server, **(_exchange_fields(code, verifier) | fields))

    assert (answer.status, _json(answer)["error"]) == (status, error)


def test_a_token_request_must_be_a_form(server: AuthorizationServer) -> None:
    verifier = _verifier()
    body = urlencode(_exchange_fields(_code(server, verifier), verifier)).encode()
    answer = server.token(
        HttpRequest("POST", "/_local/oauth/token", [("content-type", "application/json")], body)
    )

    assert (answer.status, _json(answer)["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "someone-else"},
        {"client_id": None},
        {"redirect_uri": "http://evil.example/console/"},
        {"redirect_uri": "http://127.0.0.1:3000/push/config/x"},
        {"redirect_uri": "http://127.0.0.1:3000/console/../push/"},
        {"redirect_uri": "http://127.0.0.1:3000/console/#x"},
    ],
)
def test_an_unknown_client_or_redirect_uri_gets_a_page_never_a_redirect(
    server: AuthorizationServer, changes: dict[str, str | None]
) -> None:
    verifier = _verifier()
    shown = _get(server, _query(verifier, **changes))
    submitted = _submit(server, _query(verifier, **changes) | {"subject": "ops"})

    for response in (shown, submitted):
        assert response.status == 400
        assert not [k for k, _ in response.headers if k == "location"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
    ],
)
def test_other_bad_requests_redirect_back_with_the_error_and_state(
    server: AuthorizationServer, changes: dict[str, str | None], error: str
) -> None:
    response = _get(server, _query(_verifier(), **changes))
    base, params = _location(response)

    assert (response.status, base) == (303, REDIRECT)
    assert (params["error"], params["state"]) == (error, "st-1")
    assert "code" not in params


def test_a_form_without_a_subject_is_denied(server: AuthorizationServer) -> None:
    response = _submit(server, _query(_verifier()) | {"subject": "  "})

    assert _location(response)[1]["error"] == "access_denied"
