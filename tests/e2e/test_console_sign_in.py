"""The console's sign-in through the local stack, as a browser makes it: discovery, the
development issuer's form, the redirect with a code, the PKCE exchange, and the token
working on the API (the functions trust the issuer that minted it)."""

from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from local.oidc import s256

pytestmark = pytest.mark.e2e


def test_a_browser_signs_in_with_code_and_pkce_and_calls_the_api(api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="local.server")
    http = api.http
    redirect_uri = f"{api.stack.api_url}/console/"
    verifier = secrets.token_urlsafe(48)
    discovery = http.get("/_local/.well-known/openid-configuration").json()
    query = {
        "response_type": "code",
        "client_id": "pushgate-console",
        "redirect_uri": redirect_uri,
        "scope": "openid push:admin",
        "state": secrets.token_urlsafe(16),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }

    form = http.get(discovery["authorization_endpoint"], params=query)
    hidden = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', form.text))
    submitted = http.post(
        discovery["authorization_endpoint"],
        data=hidden | {"subject": "console-ops", "scope": "openid push:admin", "audience": ""},
    )
    location = urlsplit(submitted.headers["location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": redirect_uri,
        "client_id": "pushgate-console",
        "code_verifier": verifier,
    }
    exchanged = http.post(discovery["token_endpoint"], data=exchange)
    token = exchanged.json()["access_token"]
    app = api.request("PATCH", "/push/config/signed-in-app", token, json={"enabled": True})
    replayed = http.post(discovery["token_endpoint"], data=exchange)

    assert discovery["issuer"] == api.stack.issuer_url
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert form.status_code == 200
    assert hidden == {k: v for k, v in query.items() if k != "scope"}  # scope: a visible field
    assert submitted.status_code == 303
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert params["state"] == query["state"]
    assert exchanged.status_code == 200
    assert app.status_code == 200
    assert app.json()["enabled"] is True
    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_grant")
    logged = [r.getMessage() for r in caplog.records if r.name == "local.server"]
    assert "GET /_local/authorize -> 200" in " ".join(logged)
    assert not [line for line in logged if params["code"] in line or "state=" in line]


def test_the_sign_in_endpoints_refuse_other_methods(api) -> None:
    answer = api.http.delete("/_local/authorize")

    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert api.http.get("/_local/oauth/token").status_code == 405
