"""CookielessClient: a Set-Cookie from one push service never rides along to the next request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pushgate.outbound import CookielessClient


def _cookie_setting_service(seen: list[str | None]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(201, headers={"set-cookie": "session=abc; Path=/"})

    return httpx.MockTransport(answer)


async def _post_twice(client: httpx.AsyncClient) -> None:
    async with client:
        for _ in range(2):
            await client.post("https://push.test/wpush/one", content=b"x")


def test_cookieless_client_sends_no_cookie_a_push_service_set():
    seen: list[str | None] = []

    asyncio.run(_post_twice(CookielessClient(transport=_cookie_setting_service(seen))))

    assert seen == [None, None]


def test_cookieless_client_plain_httpx_would_have_sent_it_back():
    # The control: the same exchange through a plain AsyncClient returns the cookie.
    seen: list[str | None] = []

    asyncio.run(_post_twice(httpx.AsyncClient(transport=_cookie_setting_service(seen))))

    assert seen == [None, "session=abc"]


def test_cookieless_client_refuses_cookies_given_to_it():
    with pytest.raises(TypeError):
        CookielessClient(cookies={"a": "b"})
    client = CookielessClient()
    with pytest.raises(TypeError):
        client.cookies = {"a": "b"}
    assert not client.cookies
