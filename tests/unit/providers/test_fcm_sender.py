"""FcmSender: the request FCM receives and how each of its answers is classified."""

from __future__ import annotations

import asyncio
import json
import logging
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from pushgate.providers import (
    FcmAccessTokens,
    FcmMessage,
    FcmSender,
    Outcome,
    ServiceAccount,
)
from tests.unit.providers.support import API_URL, PROJECT_ID, TOKEN_URL, Clock, FakeGoogle, run

DEVICE_TOKEN = "dZx-device-registration-token:APA91bSecretish"
MESSAGE = FcmMessage(notification_id="ntf_1", title="Hi", body="There", data={"k": "v"})
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def _fcm_error(http: int, status: str, message: str, **detail: Any) -> httpx.Response:
    details = [{"@type": FCM_ERROR, **detail}] if detail else []
    return httpx.Response(
        http,
        json={"error": {"code": http, "message": message, "status": status, "details": details}},
    )


def _send(google: FakeGoogle, account: ServiceAccount, clock: Clock) -> Outcome:
    async def use(client: httpx.AsyncClient) -> Outcome:
        tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
        sender = FcmSender(client, tokens, api_url=API_URL, now=clock)
        return await sender.send(account, DEVICE_TOKEN, MESSAGE)

    return run(google, use)


def test_fcm_sender_posts_the_message_to_the_project_with_a_bearer_token(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle()

    _send(google, account, clock)

    request = google.fcm_requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{API_URL}/v1/projects/{PROJECT_ID}/messages:send"
    assert request.headers["Authorization"] == "Bearer access-1"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert body["message"]["token"] == DEVICE_TOKEN
    assert body["message"]["data"] == {"k": "v", "notification_id": "ntf_1"}


def test_fcm_sender_reports_200_as_delivered(account: ServiceAccount, clock: Clock) -> None:
    assert _send(FakeGoogle(), account, clock) == Outcome("delivered", None, None, 200)


def test_fcm_sender_reports_unregistered_as_invalid_token(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(
        404, "NOT_FOUND", "Requested entity was not found.", errorCode="UNREGISTERED"
    )

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("invalid_token", "fcm:UNREGISTERED", None, 404)


def test_fcm_sender_reports_a_404_without_unregistered_as_failed(
    account: ServiceAccount, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # What a wrong PUSHGATE_FCM_API_URL or project id gets: not a reason to drop the device.
    reply = _fcm_error(404, "NOT_FOUND", "Requested entity was not found.")

    with caplog.at_level(logging.WARNING, logger="pushgate.providers"):
        outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("failed", "fcm:NOT_FOUND", None, 404)
    assert any("404 without UNREGISTERED" in r.getMessage() for r in caplog.records)


def test_fcm_sender_reports_an_invalid_registration_token_message_as_invalid_token(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        errorCode="INVALID_ARGUMENT",
    )

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("invalid_token", "fcm:INVALID_ARGUMENT", None, 400)


def test_fcm_sender_reports_a_field_violation_on_the_token_as_invalid_token(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = httpx.Response(
        400,
        json={
            "error": {
                "code": 400,
                "message": "Invalid value at 'message.token'",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [
                            {"field": "message.token", "description": "Invalid value"}
                        ],
                    }
                ],
            }
        },
    )

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome.status == "invalid_token"


def test_fcm_sender_reports_another_invalid_argument_as_failed(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = httpx.Response(
        400,
        json={
            "error": {
                "code": 400,
                "message": "Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": "message.data[0].value"}],
                    }
                ],
            }
        },
    )

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("failed", "fcm:INVALID_ARGUMENT", None, 400)


def test_fcm_sender_reports_sender_id_mismatch_as_failed(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(
        403, "PERMISSION_DENIED", "SenderId mismatch", errorCode="SENDER_ID_MISMATCH"
    )

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("failed", "fcm:SENDER_ID_MISMATCH", None, 403)


def test_fcm_sender_logs_sender_id_mismatch_as_misconfiguration(
    account: ServiceAccount, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    reply = _fcm_error(
        403, "PERMISSION_DENIED", "SenderId mismatch", errorCode="SENDER_ID_MISMATCH"
    )

    with caplog.at_level(logging.WARNING, logger="pushgate.providers"):
        _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    [record] = [r for r in caplog.records if r.name.startswith("pushgate.providers")]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "FCM sender id mismatch: misconfiguration"
    assert DEVICE_TOKEN not in str(vars(record))


def test_fcm_sender_refreshes_the_access_token_once_on_401(
    account: ServiceAccount, clock: Clock
) -> None:
    unauthenticated = _fcm_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
    google = FakeGoogle(fcm_replies=[unauthenticated, httpx.Response(200, json={})])

    outcome = _send(google, account, clock)

    assert outcome.status == "delivered"
    assert google.bearer_tokens == ["access-1", "access-2"]


def test_fcm_sender_reports_a_second_401_as_failed(account: ServiceAccount, clock: Clock) -> None:
    unauthenticated = _fcm_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
    google = FakeGoogle(fcm_replies=[unauthenticated])

    outcome = _send(google, account, clock)

    assert outcome == Outcome("failed", "fcm:UNAUTHENTICATED", None, 401)
    assert len(google.fcm_requests) == 2
    assert len(google.token_requests) == 2


def test_fcm_sender_does_not_refresh_for_a_third_party_auth_error(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(401, "UNAUTHENTICATED", "Auth error", errorCode="THIRD_PARTY_AUTH_ERROR")
    google = FakeGoogle(fcm_replies=[reply])

    outcome = _send(google, account, clock)

    assert (outcome.status, outcome.error) == ("failed", "fcm:THIRD_PARTY_AUTH_ERROR")
    assert len(google.fcm_requests) == 1


def test_fcm_sender_reports_429_as_retry_after_seconds(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(429, "RESOURCE_EXHAUSTED", "Quota", errorCode="QUOTA_EXCEEDED")
    reply.headers["Retry-After"] = "30"

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("retry", "fcm:QUOTA_EXCEEDED", 30.0, 429)


def test_fcm_sender_reports_503_as_retry_after_an_http_date(
    account: ServiceAccount, clock: Clock
) -> None:
    reply = _fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.")
    reply.headers["Retry-After"] = formatdate(clock.value + 45, usegmt=True)

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert (outcome.status, outcome.retry_after) == ("retry", 45.0)


def test_fcm_sender_reports_500_as_retry(account: ServiceAccount, clock: Clock) -> None:
    reply = _fcm_error(500, "INTERNAL", "Internal error encountered.", errorCode="INTERNAL")

    outcome = _send(FakeGoogle(fcm_replies=[reply]), account, clock)

    assert outcome == Outcome("retry", "fcm:INTERNAL", None, 500)


@pytest.mark.parametrize("status", [402, 403, 409, 413])
def test_fcm_sender_reports_another_4xx_as_failed_without_retrying(
    account: ServiceAccount, clock: Clock, status: int
) -> None:
    google = FakeGoogle(fcm_replies=[httpx.Response(status, text="nope")])

    outcome = _send(google, account, clock)

    assert outcome == Outcome("failed", f"fcm:{status}", None, status)
    assert len(google.fcm_requests) == 1


def test_fcm_sender_reports_a_connection_error_as_retry(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle()

    async def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return await google(request)
        raise httpx.RemoteProtocolError("connection reset", request=request)

    async def use(client: httpx.AsyncClient) -> Outcome:
        tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
        return await FcmSender(client, tokens, api_url=API_URL).send(account, DEVICE_TOKEN, MESSAGE)

    assert run(handler, use) == Outcome("retry", "connection_error", None, None)


def test_fcm_sender_reports_a_read_timeout_as_retry(account: ServiceAccount, clock: Clock) -> None:
    google = FakeGoogle()

    async def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return await google(request)
        raise httpx.ReadTimeout("timed out", request=request)

    async def use(client: httpx.AsyncClient) -> Outcome:
        tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
        return await FcmSender(client, tokens, api_url=API_URL).send(account, DEVICE_TOKEN, MESSAGE)

    assert run(handler, use) == Outcome("retry", "timeout", None, None)


def test_fcm_sender_reports_a_refused_oauth_grant_as_failed(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_reply=httpx.Response(400, json={"error": "invalid_grant"}))

    outcome = _send(google, account, clock)

    assert outcome == Outcome("failed", "fcm_auth:invalid_grant", None, 400)
    assert google.fcm_requests == []


def test_fcm_sender_sends_concurrently_with_one_token_request(
    account: ServiceAccount, clock: Clock
) -> None:
    google = FakeGoogle(token_delay=0.02)

    async def use(client: httpx.AsyncClient) -> list[Outcome]:
        tokens = FcmAccessTokens(client, token_url=TOKEN_URL, now=clock)
        sender = FcmSender(client, tokens, api_url=API_URL, now=clock)
        sends = (sender.send(account, f"{DEVICE_TOKEN}-{i}", MESSAGE) for i in range(20))
        return list(await asyncio.gather(*sends))

    outcomes = run(google, use)

    assert {outcome.status for outcome in outcomes} == {"delivered"}
    assert len(google.token_requests) == 1
    assert len(google.fcm_requests) == 20
