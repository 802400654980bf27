"""The Python client against scripted answers: retries with one Idempotency-Key, Retry-After,
the total deadline, the error tree, token sources, paging, long-polling; every scenario run
through both the blocking and the async client, which share one implementation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import pushgate_client._flow
from pushgate_client import (
    AsyncPushgate,
    ClientCredentials,
    ConflictError,
    ConnectionFailedError,
    NotFoundError,
    PayloadTooLargeError,
    Pushgate,
    RateLimitedError,
    Retry,
    ServiceUnavailableError,
    TokenError,
)
from pushgate_client._core import Core
from pushgate_client.auth import StaticToken

API = "https://push.example"
Answer = httpx.Response | Exception


class Script:
    """Answers requests in order and records them (method, path, headers, body)."""

    def __init__(self, *answers: Answer | Callable[[httpx.Request], Answer]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if callable(answer) and not isinstance(answer, httpx.Response):
            answer = answer(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


def error(status: int, code: str, retry_after: str | None = None) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(
        status, headers=headers, json={"error": {"code": code, "message": f"{code}!"}}
    )


def accepted(notification_id: str = "ntf_1") -> httpx.Response:
    return httpx.Response(202, json={"notification_id": notification_id})


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch) -> list[float]:
    """Pauses are recorded, not slept."""
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    # The drivers' own pauses only: patching time.sleep itself would also record the sleeps
    # of every other thread in this process (a local stack's, in a full run).
    monkeypatch.setattr(pushgate_client._flow, "_sleep", slept.append)
    monkeypatch.setattr(pushgate_client._flow, "_asleep", asleep)
    return slept


@pytest.fixture(params=["sync", "async"])
def run(request) -> Callable[..., Any]:
    """`run(script, "send", *args, token=..., **kwargs)`: the call through either client."""

    def call(script: Script, method: str, *args: Any, token: Any = "tok", **kwargs: Any) -> Any:
        retry = kwargs.pop("retry", Retry(attempts=5, deadline=30))
        if request.param == "sync":
            client = Pushgate(
                API, token, retry=retry, http=httpx.Client(transport=httpx.MockTransport(script))
            )
            target: Any = client
            for part in method.split("."):
                target = getattr(target, part)
            result = target(*args, **kwargs)
            return list(result) if method == "devices" else result

        async def go() -> Any:
            transport = httpx.MockTransport(script)
            async with AsyncPushgate(
                API, token, retry=retry, http=httpx.AsyncClient(transport=transport)
            ) as client:
                target: Any = client
                for part in method.split("."):
                    target = getattr(target, part)
                if method == "devices":
                    return [d async for d in target(*args, **kwargs)]
                return await target(*args, **kwargs)

        return asyncio.run(go())

    return call


def test_send_posts_the_notification_and_returns_its_id(run) -> None:
    script = Script(accepted("ntf_7"))

    sent = run(script, "send", "alice", "Hi", "There", url="https://a.example", ttl=60)
    (request,) = script.requests

    assert sent == "ntf_7"
    assert (request.method, str(request.url)) == ("POST", f"{API}/push/send")
    assert json.loads(request.content) == {
        "user_id": "alice",
        "title": "Hi",
        "body": "There",
        "url": "https://a.example",
        "ttl": 60,
    }
    assert request.headers["authorization"] == "Bearer tok"
    assert len(request.headers["idempotency-key"]) == 32


def test_retries_share_one_idempotency_key_and_honour_retry_after(run, no_sleeping) -> None:
    script = Script(error(429, "rate_limited", "2"), error(503, "unavailable"), accepted())

    sent = run(script, "send", "alice", "Hi", "There")
    keys = script.keys()

    assert sent == "ntf_1"
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert no_sleeping[0] == 2.0
    assert 0 <= no_sleeping[1] <= 1.0  # backoff of the second try: up to 0.5 * 2


def test_each_call_gets_its_own_idempotency_key(run) -> None:
    script = Script(accepted(), accepted())

    run(script, "send", "alice", "Hi", "There")
    run(script, "send", "alice", "Hi", "There")

    assert len(set(script.keys())) == 2


def test_a_connection_error_is_retried_then_reported(run) -> None:
    refused = httpx.ConnectError("refused")
    recovered = Script(refused, accepted())
    down = Script(*[httpx.ConnectError("refused")] * 3)

    sent = run(recovered, "send", "alice", "Hi", "There")
    with pytest.raises(ConnectionFailedError):
        run(down, "send", "alice", "Hi", "There", retry=Retry(attempts=3))

    assert sent == "ntf_1"
    assert len(down.requests) == 3


def test_a_retry_after_beyond_the_deadline_raises_at_once(run, no_sleeping) -> None:
    script = Script(error(429, "quota_exceeded", "3600"))

    with pytest.raises(RateLimitedError) as refused:
        run(script, "send", "alice", "Hi", "There")

    assert (refused.value.code, refused.value.retry_after) == ("quota_exceeded", 3600.0)
    assert len(script.requests) == 1
    assert no_sleeping == []


def test_the_attempts_are_bounded(run) -> None:
    script = Script(*[error(503, "unavailable")] * 4)

    with pytest.raises(ServiceUnavailableError):
        run(script, "send", "alice", "Hi", "There", retry=Retry(attempts=4))

    assert len(script.requests) == 4


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (404, NotFoundError, "approval_not_found"),
        (409, ConflictError, "already_decided"),
        (413, PayloadTooLargeError, "payload_too_large"),
    ],
)
def test_errors_raise_their_kind_with_the_api_code_without_retrying(
    run, status, kind, code
) -> None:
    script = Script(error(status, code))

    with pytest.raises(kind) as raised:
        run(script, "approvals.get", "apr_1")

    assert (raised.value.status, raised.value.code) == (status, code)
    assert raised.value.message == f"{code}!"
    assert len(script.requests) == 1


def test_a_request_still_in_progress_is_tried_again(run) -> None:
    script = Script(error(409, "request_in_progress"), accepted())

    assert run(script, "send", "alice", "Hi", "There") == "ntf_1"
    assert len(set(script.keys())) == 1


def test_a_request_without_a_key_is_not_repeated_after_a_lost_answer() -> None:
    script = Script(httpx.ConnectError("reset"))
    core = Core(API, StaticToken("tok"))
    flow = core.request("POST", "/push/config/a/webhook-secret/rotate", idempotent=False)

    with pytest.raises(ConnectionFailedError):
        pushgate_client._flow.run_sync(flow, httpx.Client(transport=httpx.MockTransport(script)))

    assert len(script.requests) == 1
    assert script.keys() == [None]


def test_devices_iterate_over_every_page(run) -> None:
    pages = [
        httpx.Response(200, json={"devices": [{"device_id": "d1"}], "next_cursor": "c1"}),
        httpx.Response(200, json={"devices": [{"device_id": "d2"}], "next_cursor": "c2"}),
        httpx.Response(200, json={"devices": [{"device_id": "d3"}], "next_cursor": None}),
    ]
    script = Script(*pages)

    devices = run(script, "devices", "app-1", page_size=1)

    assert [d["device_id"] for d in devices] == ["d1", "d2", "d3"]
    assert [r.url.params.get("cursor") for r in script.requests] == [None, "c1", "c2"]
    assert {r.url.params["limit"] for r in script.requests} == {"1"}


def test_waiting_for_an_approval_long_polls_until_it_is_decided(run) -> None:
    def state(status: str) -> httpx.Response:
        return httpx.Response(200, json={"approval_id": "apr_1", "status": status})

    script = Script(state("pending"), state("approved"))

    answer = run(script, "approvals.wait", "apr_1", timeout=120)

    assert answer["status"] == "approved"
    assert [r.url.params["wait"] for r in script.requests] == ["25", "25"]
    assert script.requests[0].extensions["timeout"]["read"] == pytest.approx(35, abs=0.5)


def test_a_token_callable_is_asked_for_every_request(run) -> None:
    tokens = iter(["t1", "t2"])
    script = Script(accepted(), accepted())

    run(script, "send", "a", "b", "c", token=lambda: next(tokens))
    run(script, "send", "a", "b", "c", token=lambda: next(tokens))

    assert [r.headers["authorization"] for r in script.requests] == ["Bearer t1", "Bearer t2"]


def test_the_async_client_takes_an_async_token_callable() -> None:
    async def get_token() -> str:
        return "async-tok"

    script = Script(accepted())

    async def go() -> str:
        http = httpx.AsyncClient(transport=httpx.MockTransport(script))
        async with AsyncPushgate(API, get_token, http=http) as client:
            return await client.send("a", "b", "c")

    assert asyncio.run(go()) == "ntf_1"
    assert script.requests[0].headers["authorization"] == "Bearer async-tok"


def token_answer(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_client_credentials_are_cached_until_shortly_before_expiry(run) -> None:
    clock = Clock()
    credentials = ClientCredentials(
        "https://id.example/token", "svc", "s3cret:/", scope="push:send", clock=clock
    )
    script = Script(token_answer("A"), accepted(), accepted(), token_answer("B"), accepted())

    run(script, "send", "a", "b", "c", token=credentials)
    run(script, "send", "a", "b", "c", token=credentials)
    clock.now += 3600 - 60  # the refresh margin
    run(script, "send", "a", "b", "c", token=credentials)
    token_request = script.requests[0]

    assert [str(r.url) for r in script.requests].count("https://id.example/token") == 2
    assert [r.headers["authorization"] for r in script.requests[1:3]] == ["Bearer A"] * 2
    assert script.requests[4].headers["authorization"] == "Bearer B"
    assert dict(httpx.QueryParams(token_request.content.decode())) == {
        "grant_type": "client_credentials",
        "scope": "push:send",
    }
    basic = base64.b64decode(token_request.headers["authorization"].removeprefix("Basic "))
    assert basic == b"svc:s3cret%3A%2F"  # RFC 6749 2.3.1: form-encoded, then Basic


def test_client_credentials_can_post_the_secret_in_the_form(run) -> None:
    credentials = ClientCredentials(
        "https://id.example/token", "svc", "pw", auth_method="client_secret_post"
    )
    script = Script(token_answer("A"), accepted())

    run(script, "send", "a", "b", "c", token=credentials)

    form = dict(httpx.QueryParams(script.requests[0].content.decode()))
    assert (form["client_id"], form["client_secret"]) == ("svc", "pw")
    assert "authorization" not in script.requests[0].headers


def test_a_refused_token_is_replaced_once(run) -> None:
    credentials = ClientCredentials("https://id.example/token", "svc", "pw")
    script = Script(
        token_answer("old"), error(401, "invalid_token"), token_answer("new"), accepted()
    )

    assert run(script, "send", "a", "b", "c", token=credentials) == "ntf_1"
    assert script.requests[3].headers["authorization"] == "Bearer new"


def test_a_token_endpoint_refusal_is_a_token_error(run) -> None:
    credentials = ClientCredentials("https://id.example/token", "svc", "wrong")
    refusal = httpx.Response(401, json={"error": "invalid_client"})

    with pytest.raises(TokenError, match="401: invalid_client"):
        run(Script(refusal), "send", "a", "b", "c", token=credentials)


def test_broadcast_posts_to_the_broadcast_route_and_its_status_and_cancel_follow(run) -> None:
    script = Script(
        httpx.Response(202, json={"broadcast_id": "brd_1"}),
        httpx.Response(200, json={"broadcast_id": "brd_1", "status": "running"}),
        httpx.Response(200, json={"broadcast_id": "brd_1", "status": "cancelled"}),
    )

    started = run(script, "broadcast", "Hi", "All", platforms=["web"], url="https://a.example")
    status = run(script, "broadcast_status", "brd_1")
    cancelled = run(script, "cancel_broadcast", "brd_1")
    post, get, delete = script.requests

    assert (started, status["status"], cancelled["status"]) == ("brd_1", "running", "cancelled")
    assert (post.method, post.url.path) == ("POST", "/push/send/broadcast")
    assert json.loads(post.content) == {
        "title": "Hi",
        "body": "All",
        "url": "https://a.example",
        "platforms": ["web"],
    }
    assert len(post.headers["idempotency-key"]) == 32
    assert (get.method, get.url.path) == ("GET", "/push/broadcasts/brd_1")
    assert (delete.method, delete.url.path) == ("DELETE", "/push/broadcasts/brd_1")
