"""NtfySender: JSON publishing to the server root, and how ntfy's answers are classified."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from pushgate.providers import NtfySender, Outcome
from tests.unit.providers.support import Clock, run

DEVICE_URL = "https://ntfy.test/pushgate_u1_d1"
ACCESS_TOKEN = "tk_secretntfyaccesstoken0000000"

Send = Callable[..., Outcome]


class NtfyServer:
    """Records requests and answers each with `reply`, or fails them with `error`."""

    def __init__(
        self,
        reply: httpx.Response | None = None,
        error: type[httpx.TransportError] | None = None,
    ) -> None:
        self.reply = reply or httpx.Response(200, json={"id": "m1", "event": "message"})
        self.error = error
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error("no answer", request=request)
        return self.reply


@pytest.fixture
def send(clock: Clock) -> Send:
    def go(server: NtfyServer, **overrides: object) -> Outcome:
        fields: dict[str, object] = {
            "url": DEVICE_URL,
            "access_token": ACCESS_TOKEN,
            "title": "Hi",
            "body": "There",
            "click_url": "https://app.test/chat/42",
            "urgency": "normal",
            "tags": ["bell"],
            **overrides,
        }

        async def use(client: httpx.AsyncClient) -> Outcome:
            return await NtfySender(client, now=clock).send(**fields)  # type: ignore[arg-type]

        return run(server, use)

    return go


def test_ntfy_sender_publishes_json_to_the_server_root(send: Send) -> None:
    server = NtfyServer()

    send(server)

    request = server.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://ntfy.test/")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "topic": "pushgate_u1_d1",
        "title": "Hi",
        "message": "There",
        "click": "https://app.test/chat/42",
        "priority": 3,
        "tags": ["bell"],
    }


def test_ntfy_sender_sends_the_device_token_as_bearer(send: Send) -> None:
    server = NtfyServer()

    send(server)

    assert server.requests[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_ntfy_sender_sends_no_authorization_without_a_token(send: Send) -> None:
    server = NtfyServer()

    send(server, access_token=None)

    assert "Authorization" not in server.requests[0].headers


def test_ntfy_sender_leaves_out_absent_click_and_tags(send: Send) -> None:
    server = NtfyServer()

    send(server, click_url=None, tags=None)

    assert set(json.loads(server.requests[0].content)) == {"topic", "title", "message", "priority"}


@pytest.mark.parametrize(
    ("urgency", "priority"),
    [("very-low", 1), ("low", 2), ("normal", 3), ("high", 5), (None, 3)],
)
def test_ntfy_sender_maps_urgency_to_priority(
    send: Send, urgency: str | None, priority: int
) -> None:
    server = NtfyServer()

    send(server, urgency=urgency)

    assert json.loads(server.requests[0].content)["priority"] == priority


def test_ntfy_sender_keeps_a_path_prefix_with_the_server(send: Send) -> None:
    server = NtfyServer()

    send(server, url="https://host.test/ntfy/alerts")

    request = server.requests[0]
    assert str(request.url) == "https://host.test/ntfy/"
    assert json.loads(request.content)["topic"] == "alerts"


@pytest.mark.parametrize(
    "url",
    ["https://ntfy.test/", "https://ntfy.test/a?b=c", "ftp://ntfy.test/t", "https://ntfy.test/a b"],
)
def test_ntfy_sender_reports_a_url_without_a_topic_as_invalid_token(send: Send, url: str) -> None:
    server = NtfyServer()

    outcome = send(server, url=url)

    assert outcome == Outcome("invalid_token", "ntfy:invalid_topic_url", None, None)
    assert server.requests == []


def test_ntfy_sender_reports_200_as_delivered(send: Send) -> None:
    assert send(NtfyServer()) == Outcome("delivered", None, None, 200)


@pytest.mark.parametrize("status", [401, 403])
def test_ntfy_sender_reports_a_refused_token_as_failed(send: Send, status: int) -> None:
    reply = httpx.Response(status, json={"code": status * 100 + 1, "http": status})

    assert send(NtfyServer(reply)) == Outcome("failed", f"ntfy:{status}", None, status)


def test_ntfy_sender_reports_404_as_failed(send: Send) -> None:
    assert send(NtfyServer(httpx.Response(404))) == Outcome("failed", "ntfy:404", None, 404)


def test_ntfy_sender_reports_429_as_retry_after_seconds(send: Send) -> None:
    outcome = send(NtfyServer(httpx.Response(429, headers={"Retry-After": "5"})))

    assert outcome == Outcome("retry", "ntfy:429", 5.0, 429)


def test_ntfy_sender_reports_502_as_retry_after_an_http_date(send: Send, clock: Clock) -> None:
    date = formatdate(clock.value + 20, usegmt=True)

    outcome = send(NtfyServer(httpx.Response(502, headers={"Retry-After": date})))

    assert (outcome.status, outcome.retry_after) == ("retry", 20.0)


@pytest.mark.parametrize("status", [400, 413, 422])
def test_ntfy_sender_reports_another_4xx_as_failed(send: Send, status: int) -> None:
    assert send(NtfyServer(httpx.Response(status))) == Outcome(
        "failed", f"ntfy:{status}", None, status
    )


def test_ntfy_sender_reports_a_connect_timeout_as_retry(send: Send) -> None:
    outcome = send(NtfyServer(error=httpx.ConnectTimeout))

    assert outcome == Outcome("retry", "timeout", None, None)


def test_ntfy_sender_reports_a_connection_error_as_retry(send: Send) -> None:
    outcome = send(NtfyServer(error=httpx.ConnectError))

    assert outcome == Outcome("retry", "connection_error", None, None)
