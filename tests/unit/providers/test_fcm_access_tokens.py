"""FcmAccessTokens: the JWT-bearer grant, its cache, and one fetch for many callers."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pushgate.providers import AccessTokenError, FcmAccessTokens, ServiceAccount
from tests.unit.providers.support import (
    CLIENT_EMAIL,
    PRIVATE_KEY_ID,
    TOKEN_URL,
    Clock,
    FakeGoogle,
    run,
)

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def _tokens(client: httpx.AsyncClient, clock: Clock) -> FcmAccessTokens:
    return FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)


def _fetch(account: ServiceAccount, clock: Clock, *, times: int = 1):
    async def use(client: httpx.AsyncClient) -> list[str]:
        tokens = _tokens(client, clock)
        return [await tokens.get(account) for _ in range(times)]

    return use


def test_access_tokens_post_a_form_encoded_jwt_bearer_grant(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle()

    run(google, _fetch(account, clock))

    request = google.token_requests[0]
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert len(form["assertion"]) == 1


def test_access_tokens_sign_an_assertion_google_accepts(
    account: ServiceAccount, clock: Clock, rsa_key: rsa.RSAPrivateKey
) -> None:
    google = FakeGoogle()

    run(google, _fetch(account, clock))

    assertion = parse_qs(google.token_requests[0].content.decode())["assertion"][0]
    header = jwt.get_unverified_header(assertion)
    claims: dict[str, Any] = jwt.decode(
        assertion,
        rsa_key.public_key(),
        algorithms=["RS256"],
        audience=TOKEN_URL,
        issuer=CLIENT_EMAIL,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert header["kid"] == PRIVATE_KEY_ID
    assert claims["scope"] == SCOPE
    assert claims["iat"] == int(clock.value)
    assert claims["exp"] == claims["iat"] + 3600


def test_access_tokens_ignore_the_account_token_uri(
    service_account_info: dict[str, Any], clock: Clock
) -> None:
    account = ServiceAccount.parse({**service_account_info, "token_uri": "https://evil.test/t"})
    google = FakeGoogle()

    run(google, _fetch(account, clock))

    assert [str(r.url) for r in google.token_requests] == [TOKEN_URL]


def test_access_tokens_reuse_a_cached_token(account: ServiceAccount, clock: Clock) -> None:
    google = FakeGoogle()

    values = run(google, _fetch(account, clock, times=3))

    assert values == ["access-1"] * 3
    assert len(google.token_requests) == 1


def test_access_tokens_share_one_fetch_between_concurrent_callers(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_delay=0.02)

    async def use(client: httpx.AsyncClient) -> list[str]:
        tokens = _tokens(client, clock)
        return list(await asyncio.gather(*(tokens.get(account) for _ in range(50))))

    values = run(google, use)

    assert set(values) == {"access-1"}
    assert len(google.token_requests) == 1


def test_access_tokens_refetch_five_minutes_before_expiry(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(expires_in=3600)

    async def use(client: httpx.AsyncClient) -> list[str]:
        tokens = _tokens(client, clock)
        first = await tokens.get(account)
        clock.value += 3600 - 300 - 1
        still_cached = await tokens.get(account)
        clock.value += 1
        return [first, still_cached, await tokens.get(account)]

    assert run(google, use) == ["access-1", "access-1", "access-2"]


def test_access_tokens_invalidate_forces_a_new_fetch(account: ServiceAccount, clock: Clock) -> None:
    google = FakeGoogle()

    async def use(client: httpx.AsyncClient) -> list[str]:
        tokens = _tokens(client, clock)
        first = await tokens.get(account)
        tokens.invalidate(account, first)
        return [first, await tokens.get(account)]

    assert run(google, use) == ["access-1", "access-2"]


def test_access_tokens_invalidate_keeps_a_token_newer_than_the_stale_one(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle()

    async def use(client: httpx.AsyncClient) -> str:
        tokens = _tokens(client, clock)
        stale = await tokens.get(account)
        tokens.invalidate(account, stale)
        await tokens.get(account)
        tokens.invalidate(account, stale)  # a second 401 for the same stale token
        return await tokens.get(account)

    assert run(google, use) == "access-2"
    assert len(google.token_requests) == 2


def test_access_tokens_survive_from_one_event_loop_to_the_next(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle()
    tokens = _tokens(httpx.AsyncClient(transport=httpx.MockTransport(google)), clock)

    values = [asyncio.run(tokens.get(account)) for _ in range(2)]

    assert values == ["access-1", "access-1"]
    assert len(google.token_requests) == 1


def test_access_tokens_do_not_await_a_fetch_left_on_another_loop(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_delay=0.2)
    tokens = _tokens(httpx.AsyncClient(transport=httpx.MockTransport(google)), clock)
    abandoned = asyncio.new_event_loop()
    try:
        with pytest.raises(TimeoutError):
            abandoned.run_until_complete(asyncio.wait_for(tokens.get(account), 0.01))
        google.token_delay = 0.0

        value = asyncio.run(tokens.get(account))
    finally:
        abandoned.close()

    assert value == "access-2"


def test_access_tokens_report_a_refused_grant_as_failed(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(
        token_reply=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        )
    )

    with pytest.raises(AccessTokenError) as raised:
        run(google, _fetch(account, clock))

    outcome = raised.value.outcome
    assert (outcome.status, outcome.error, outcome.http_status) == (
        "failed",
        "fcm_auth:invalid_grant",
        400,
    )


def test_access_tokens_report_an_unavailable_endpoint_as_retry(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_reply=httpx.Response(503, headers={"Retry-After": "7"}))

    with pytest.raises(AccessTokenError) as raised:
        run(google, _fetch(account, clock))

    assert raised.value.outcome.status == "retry"
    assert raised.value.outcome.retry_after == 7.0


def test_access_tokens_report_a_malformed_answer_as_failed(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_reply=httpx.Response(200, json={"token_type": "Bearer"}))

    with pytest.raises(AccessTokenError) as raised:
        run(google, _fetch(account, clock))

    assert raised.value.outcome.error == "fcm_auth:malformed_response"


def test_access_tokens_report_a_network_error_as_retry(
    account: ServiceAccount, clock: Clock
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(AccessTokenError) as raised:
        run(refuse, _fetch(account, clock))

    assert (raised.value.outcome.status, raised.value.outcome.error) == (
        "retry",
        "connection_error",
    )


def test_access_tokens_keep_accounts_with_different_keys_apart(
    service_account_info: dict[str, Any], clock: Clock
) -> None:
    other_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    # Same email and key id, another key: a tenant must not get another's cached token.
    impostor = ServiceAccount.parse({**service_account_info, "private_key": other_pem})
    genuine = ServiceAccount.parse(service_account_info)
    google = FakeGoogle()

    async def use(client: httpx.AsyncClient) -> list[str]:
        tokens = _tokens(client, clock)
        return [await tokens.get(genuine), await tokens.get(impostor)]

    assert run(google, use) == ["access-1", "access-2"]
