"""The development issuer: tokens verify against its JWKS; bad requests are refused."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from local.issuer import DevIssuer, DevIssuers, TokenRequestError

ISSUER = "http://127.0.0.1:3000/_local"


@pytest.fixture(scope="module")
def issuer() -> DevIssuer:
    return DevIssuer(ISSUER)


def _verify(issuer: DevIssuer, token: str, audience: str | None = None) -> dict[str, object]:
    key = jwt.PyJWK(issuer.jwks["keys"][0])
    return jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        issuer=issuer.issuer_url,
        audience=audience,
        options={"verify_aud": audience is not None},
    )


def test_issuer_tokens_verify_with_its_jwks(issuer: DevIssuer) -> None:
    token = issuer.mint("ops", scope=["push:admin", "push:config"], aud="demo", ttl=60)
    claims = _verify(issuer, token, audience="demo")
    assert claims["sub"] == "ops"
    assert claims["scope"] == "push:admin push:config"
    assert claims["exp"] == claims["iat"] + 60
    assert claims["nbf"] == claims["iat"]
    assert abs(int(str(claims["iat"])) - time.time()) < 5
    assert claims["jti"]
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": issuer.kid, "typ": "JWT"}


def test_issuer_omits_aud_and_scope_when_not_asked(issuer: DevIssuer) -> None:
    claims = _verify(issuer, issuer.mint("user-1"))
    assert "aud" not in claims
    assert "scope" not in claims


def test_issuer_keeps_an_audience_list(issuer: DevIssuer) -> None:
    claims = _verify(issuer, issuer.mint("user-1", aud=["a", "b"]), audience="b")
    assert claims["aud"] == ["a", "b"]


def test_issuer_jwks_publishes_a_p256_signing_key(issuer: DevIssuer) -> None:
    (key,) = issuer.jwks["keys"]
    assert {key["kty"], key["crv"], key["alg"], key["use"], key["kid"]} == {
        "EC",
        "P-256",
        "ES256",
        "sig",
        issuer.kid,
    }
    assert "d" not in key


def test_issuer_trusted_issuers_points_at_the_jwks(issuer: DevIssuer) -> None:
    assert json.loads(issuer.trusted_issuers) == [
        {
            "issuer": ISSUER,
            "jwks_url": f"{ISSUER}/jwks.json",
            "roles": ["user", "service", "admin"],
        }
    ]


def test_issuers_trust_a_second_issuer_for_users_and_services_only() -> None:
    issuers = DevIssuers(ISSUER)
    assert json.loads(issuers.trusted_issuers) == [
        {
            "issuer": ISSUER,
            "jwks_url": f"{ISSUER}/jwks.json",
            "roles": ["user", "service", "admin"],
        },
        {
            "issuer": f"{ISSUER}/second",
            "jwks_url": f"{ISSUER}/second/jwks.json",
            "roles": ["user", "service"],
        },
    ]
    assert issuers.second.kid != issuers.default.kid


@pytest.mark.parametrize(("name", "iss"), [(None, ISSUER), ("default", ISSUER), ("second", None)])
def test_issuers_token_response_mints_with_the_named_issuer(name, iss) -> None:
    issuers = DevIssuers(ISSUER)
    body = {"sub": "alice", "aud": "demo"} | ({"issuer": name} if name else {})
    token = issuers.token_response(json.dumps(body).encode())["access_token"]
    claims = _verify(issuers.named(name), token, audience="demo")
    assert claims["iss"] == (iss or f"{ISSUER}/second")


@pytest.mark.parametrize("name", ["third", "", 7])
def test_issuers_token_response_refuses_unknown_issuers(name) -> None:
    with pytest.raises(TokenRequestError):
        DevIssuers(ISSUER).token_response(json.dumps({"sub": "a", "issuer": name}).encode())


def test_issuer_token_response_uses_the_requested_ttl(issuer: DevIssuer) -> None:
    response = issuer.token_response(b'{"sub": "ops", "scope": "push:admin", "ttl": 120}')
    assert response["token_type"] == "Bearer"
    assert response["expires_in"] == 120
    claims = _verify(issuer, response["access_token"])
    assert claims["exp"] == claims["iat"] + 120


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"{}",
        b'{"sub": ""}',
        b'{"sub": 7}',
        b'{"sub": "ops", "scope": 1}',
        b'{"sub": "ops", "aud": []}',
        b'{"sub": "ops", "ttl": "60"}',
        b'{"sub": "ops", "ttl": true}',
        b'{"sub": "ops", "ttl": 0}',
        b'{"sub": "ops", "ttl": 86401}',
        b'{"sub": "ops", "scopes": "push:admin"}',
    ],
)
def test_issuer_token_response_refuses_bad_requests(issuer: DevIssuer, body: bytes) -> None:
    with pytest.raises(TokenRequestError):
        issuer.token_response(body)
