"""No secret (device token, endpoint, subscription keys, access tokens, private keys) reaches
an Outcome or a log record, whatever the provider answers — even when the answer echoes it.

httpx's own INFO line ("HTTP Request: POST <url> ...") names the URL; it is left out here
because which third-party loggers run at INFO is the function's logging setup, not the
providers'."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pushgate.crypto import VapidHeaderCache, VapidKey
from pushgate.providers import (
    FcmAccessTokens,
    FcmMessage,
    FcmSender,
    NtfySender,
    Outcome,
    ServiceAccount,
    WebPushSender,
)
from tests.unit.providers.support import API_URL, TOKEN_URL, Clock, run
from tests.user_agent import UserAgent

DEVICE_TOKEN = "fcm-device-token-SECRET-0001"
ACCESS_TOKEN = "ya29.ACCESS-TOKEN-SECRET"
ENDPOINT = "https://push.test/wpush/SECRET-SUBSCRIPTION-PATH"
NTFY_URL = "https://ntfy.test/SECRET_TOPIC_NAME"
NTFY_TOKEN = "tk_SECRETNTFYTOKEN"
STATUSES = [200, 400, 401, 403, 404, 410, 413, 429, 500, 503]
THIRD_PARTY_LOGGERS = ("httpx", "httpcore", "hpack", "h2")


def _echo(status: int, *secrets: str) -> httpx.Response:
    """A provider answer that quotes the secrets back, in its error text and headers."""
    text = " ".join(secrets)
    return httpx.Response(
        status,
        headers={"Retry-After": "1", "X-Echo": text.replace("\n", " ")},
        json={
            "error": {
                "code": status,
                "message": f"The registration token is not a valid FCM registration token {text}",
                "status": text,
                "details": [{"@type": "x", "errorCode": text}],
            }
        },
    )


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    with caplog.at_level(logging.DEBUG):
        yield caplog.records


def _assert_clean(
    outcomes: list[Outcome], records: list[logging.LogRecord], secrets: list[str]
) -> None:
    assert outcomes
    for outcome in outcomes:
        for secret in secrets:
            assert secret not in repr(outcome)
    for record in records:
        if record.name.split(".")[0] in THIRD_PARTY_LOGGERS:
            continue
        text = f"{record.getMessage()} {vars(record)}"
        for secret in secrets:
            assert secret not in text


def test_fcm_sender_never_puts_a_secret_in_an_outcome_or_a_log(
    account: ServiceAccount,
    service_account_info: dict[str, Any],
    clock: Clock,
    records: list[logging.LogRecord],
) -> None:
    key_body = service_account_info["private_key"].splitlines()[1]
    secrets = [DEVICE_TOKEN, ACCESS_TOKEN, key_body]
    outcomes: list[Outcome] = []
    for status in STATUSES:

        def handler(request: httpx.Request, status: int = status) -> httpx.Response:
            if str(request.url) == TOKEN_URL:
                return httpx.Response(200, json={"access_token": ACCESS_TOKEN, "expires_in": 60})
            return _echo(status, *secrets)

        async def use(client: httpx.AsyncClient) -> Outcome:
            tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
            sender = FcmSender(client, tokens, api_url=API_URL, now=clock)
            return await sender.send(account, DEVICE_TOKEN, FcmMessage(notification_id="n"))

        outcomes.append(run(handler, use))

    _assert_clean(outcomes, records, secrets)


def test_fcm_access_tokens_never_put_a_secret_in_an_outcome_or_a_log(
    account: ServiceAccount, clock: Clock, records: list[logging.LogRecord]
) -> None:
    outcomes: list[Outcome] = []
    for status in STATUSES[1:]:

        def handler(request: httpx.Request, status: int = status) -> httpx.Response:
            return httpx.Response(
                status, json={"error": request.content.decode(), "error_description": "x"}
            )

        async def use(client: httpx.AsyncClient) -> Outcome:
            tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
            sender = FcmSender(client, tokens, api_url=API_URL, now=clock)
            return await sender.send(account, DEVICE_TOKEN, FcmMessage(notification_id="n"))

        outcomes.append(run(handler, use))

    _assert_clean(outcomes, records, [DEVICE_TOKEN, "assertion", "eyJ"])


def test_webpush_sender_never_puts_a_secret_in_an_outcome_or_a_log(
    user_agent: UserAgent,
    vapid_key: VapidKey,
    vapid_headers: VapidHeaderCache,
    records: list[logging.LogRecord],
) -> None:
    secrets = [ENDPOINT, "SECRET-SUBSCRIPTION-PATH", vapid_key.export_private_key()]
    outcomes: list[Outcome] = []
    for status in STATUSES:

        async def use(client: httpx.AsyncClient) -> Outcome:
            return await WebPushSender(client, vapid_headers=vapid_headers).send(
                endpoint=ENDPOINT,
                p256dh=user_agent.p256dh,
                auth=user_agent.auth,
                payload=b"{}",
                ttl=60,
                urgency=None,
                topic=None,
                vapid_key=vapid_key,
                vapid_subject="mailto:ops@pushgate.test",
            )

        outcomes.append(run(lambda _, status=status: _echo(status, *secrets), use))

    _assert_clean(outcomes, records, secrets)


def test_ntfy_sender_never_puts_a_secret_in_an_outcome_or_a_log(
    records: list[logging.LogRecord],
) -> None:
    secrets = [NTFY_URL, "SECRET_TOPIC_NAME", NTFY_TOKEN]
    outcomes: list[Outcome] = []
    for status in STATUSES:

        async def use(client: httpx.AsyncClient) -> Outcome:
            return await NtfySender(client).send(
                url=NTFY_URL,
                access_token=NTFY_TOKEN,
                title="t",
                body="b",
                click_url=None,
                urgency=None,
                tags=None,
            )

        outcomes.append(run(lambda _, status=status: _echo(status, *secrets), use))

    _assert_clean(outcomes, records, secrets)
