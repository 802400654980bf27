"""Shared by the provider tests: the fake service account's names, a settable clock, a
browser's subscription, and a way to run a coroutine against a mock transport."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
TOKEN_URL = "https://oauth.test/token"
API_URL = "https://fcm.test"
PROJECT_ID = "demo-project"
CLIENT_EMAIL = "pushgate@demo-project.iam.gserviceaccount.com"
PRIVATE_KEY_ID = "0123456789abcdef0123456789abcdef01234567"


class Clock:
    """A settable clock for caches and Retry-After dates."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


def run(handler: Handler, use: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run `use(client)` on a fresh event loop, the client answering through `handler`."""

    async def main() -> T:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await use(client)

    return asyncio.run(main())


class FakeGoogle:
    """The OAuth2 token endpoint and FCM behind one mock-transport handler.

    The token endpoint checks the grant and issues `access-1`, `access-2`, ...; FCM answers
    with `fcm_replies` in order (the last one repeats) and records what it was sent.
    """

    def __init__(
        self,
        *,
        fcm_replies: list[httpx.Response] | None = None,
        token_reply: httpx.Response | None = None,
        expires_in: int = 3599,
        token_delay: float = 0.0,
    ) -> None:
        self.fcm_replies = fcm_replies or [httpx.Response(200, json={"name": "projects/x/m/1"})]
        self.token_reply = token_reply
        self.expires_in = expires_in
        self.token_delay = token_delay
        self.token_requests: list[httpx.Request] = []
        self.fcm_requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_requests.append(request)
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            if self.token_reply is not None:
                return self.token_reply
            return httpx.Response(
                200,
                json={
                    "access_token": f"access-{len(self.token_requests)}",
                    "expires_in": self.expires_in,
                    "token_type": "Bearer",
                },
            )
        self.fcm_requests.append(request)
        index = min(len(self.fcm_requests), len(self.fcm_replies)) - 1
        return self.fcm_replies[index]

    @property
    def bearer_tokens(self) -> list[str]:
        return [r.headers["Authorization"].removeprefix("Bearer ") for r in self.fcm_requests]
