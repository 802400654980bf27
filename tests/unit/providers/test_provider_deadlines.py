"""Every provider call ends at its total deadline, even against a server that trickles its
answer a byte at a time (which per-read timeouts never stop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

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
from tests.standins.tarpit import TarpitServer
from tests.user_agent import UserAgent

DEADLINE = 0.5
# Per-read timeouts far longer than the deadline: only the deadline can end these calls.
PER_READ = httpx.Timeout(5.0)


@pytest.fixture
def tarpit() -> Iterator[TarpitServer]:
    with TarpitServer(interval=0.15, duration=10) as server:
        yield server


def _timed(use: Callable[[httpx.AsyncClient], Awaitable[Outcome]]) -> tuple[Outcome, float]:
    async def main() -> Outcome:
        async with httpx.AsyncClient() as client:
            return await use(client)

    started = time.monotonic()
    outcome = asyncio.run(main())
    return outcome, time.monotonic() - started


def test_ntfy_sender_gives_up_on_a_trickling_server_at_its_deadline(tarpit: TarpitServer):
    async def use(client: httpx.AsyncClient) -> Outcome:
        sender = NtfySender(client, timeout=PER_READ, deadline=DEADLINE)
        return await sender.send(
            url=f"{tarpit.url}/alerts",
            access_token=None,
            title="Hi",
            body="There",
            click_url=None,
            urgency=None,
            tags=None,
        )

    outcome, elapsed = _timed(use)

    assert outcome == Outcome.retry("timeout")
    assert DEADLINE <= elapsed < DEADLINE + 2.0  # not the tarpit's 10 s


def test_webpush_sender_gives_up_on_a_trickling_push_service_at_its_deadline(
    tarpit: TarpitServer, user_agent: UserAgent, vapid_key: VapidKey
):
    async def use(client: httpx.AsyncClient) -> Outcome:
        sender = WebPushSender(
            client, timeout=PER_READ, deadline=DEADLINE, vapid_headers=VapidHeaderCache()
        )
        return await sender.send(
            endpoint=f"{tarpit.url}/push/subscription",
            p256dh=user_agent.p256dh,
            auth=user_agent.auth,
            payload=b'{"title": "Hi"}',
            ttl=60,
            urgency=None,
            topic=None,
            vapid_key=vapid_key,
            vapid_subject="mailto:ops@pushgate.test",
        )

    outcome, elapsed = _timed(use)

    assert outcome == Outcome.retry("timeout")
    assert DEADLINE <= elapsed < DEADLINE + 2.0  # not the tarpit's 10 s


def test_fcm_sender_gives_up_on_a_trickling_token_endpoint_at_its_deadline(
    tarpit: TarpitServer, account: ServiceAccount
):
    async def use(client: httpx.AsyncClient) -> Outcome:
        tokens = FcmAccessTokens(
            client, token_url=f"{tarpit.url}/token", timeout=PER_READ, deadline=DEADLINE
        )
        sender = FcmSender(client, tokens, api_url=tarpit.url, deadline=DEADLINE)
        return await sender.send(account, "device-token", FcmMessage(notification_id="ntf_1"))

    outcome, elapsed = _timed(use)

    assert outcome == Outcome.retry("timeout")
    assert DEADLINE <= elapsed < DEADLINE + 2.0  # not the tarpit's 10 s


def test_fcm_sender_gives_up_on_a_trickling_fcm_at_its_deadline(
    tarpit: TarpitServer, account: ServiceAccount
):
    async def token(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "access-1", "expires_in": 3600})

    async def use(client: httpx.AsyncClient) -> Outcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(token)) as google:
            tokens = FcmAccessTokens(google, token_url="https://oauth.test/token")
            sender = FcmSender(
                client, tokens, api_url=tarpit.url, timeout=PER_READ, deadline=DEADLINE
            )
            return await sender.send(account, "device-token", FcmMessage(notification_id="ntf_1"))

    outcome, elapsed = _timed(use)

    assert outcome == Outcome.retry("timeout")
    assert DEADLINE <= elapsed < DEADLINE + 2.0  # not the tarpit's 10 s
