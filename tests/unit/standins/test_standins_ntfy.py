"""The ntfy stand-in refuses what ntfy refuses, with ntfy's error JSON."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.standins import NtfyStandin, fail_first

MESSAGE = {
    "topic": "alerts_42",
    "title": "Hello",
    "message": "World",
    "click": "https://example.com/n/1",
    "priority": 4,
    "tags": ["bell"],
}


def publish(
    http: httpx.Client, ntfy: NtfyStandin, document: Any, token: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(f"{ntfy.url}/", json=document, headers=headers)


def error_of(reply: httpx.Response) -> tuple[int, int]:
    body = reply.json()
    assert body["http"] == reply.status_code
    assert isinstance(body["error"], str)
    return reply.status_code, body["code"]


def test_ntfy_publishes_a_json_message(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, MESSAGE)

    assert reply.status_code == 200
    body = reply.json()
    assert body["event"] == "message"
    assert len(body["id"]) == 12
    assert body["expires"] > body["time"]
    assert {name: body[name] for name in MESSAGE} == MESSAGE
    (record,) = ntfy.messages("alerts_42")
    assert record.request == MESSAGE
    assert record.token is None
    assert ntfy.count(device="alerts_42") == 1


def test_ntfy_defaults_an_empty_message_to_triggered(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, {"topic": "alerts"})

    assert reply.json()["message"] == "triggered"


@pytest.mark.parametrize(
    "document",
    [{"message": "no topic"}, {"topic": "has space"}, {"topic": "x" * 65}, {"topic": ""}],
    ids=["missing", "space", "too-long", "empty"],
)
def test_ntfy_refuses_an_invalid_topic(
    http: httpx.Client, ntfy: NtfyStandin, document: dict[str, Any]
) -> None:
    assert error_of(publish(http, ntfy, document)) == (400, 40009)


@pytest.mark.parametrize("priority", [6, -1])
def test_ntfy_refuses_a_priority_outside_1_to_5(
    http: httpx.Client, ntfy: NtfyStandin, priority: int
) -> None:
    reply = publish(http, ntfy, {"topic": "alerts", "priority": priority})

    assert error_of(reply) == (400, 40007)


@pytest.mark.parametrize(
    "document",
    [
        {"topic": "alerts", "priority": "5"},
        {"topic": "alerts", "priority": 4.5},
        {"topic": "alerts", "tags": "bell"},
        {"topic": "alerts", "tags": [1]},
        {"topic": "alerts", "title": 7},
        ["alerts"],
    ],
    ids=["priority-string", "priority-float", "tags-string", "tags-int", "title-int", "array"],
)
def test_ntfy_refuses_a_wrongly_typed_field(
    http: httpx.Client, ntfy: NtfyStandin, document: Any
) -> None:
    assert error_of(publish(http, ntfy, document)) == (400, 40024)


def test_ntfy_refuses_a_body_that_is_not_json(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = http.post(f"{ntfy.url}/", content=b"topic=alerts")

    assert error_of(reply) == (400, 40024)


def test_ntfy_refuses_an_unknown_field_when_strict(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, {"topic": "alerts", "url": "https://example.com"})

    assert error_of(reply) == (400, 40024)
    assert "url" in ntfy.rejections()[0].reason


def test_ntfy_ignores_an_unknown_field_when_lenient(http: httpx.Client) -> None:
    with NtfyStandin(strict=False) as ntfy:
        reply = publish(http, ntfy, {"topic": "alerts", "url": "https://example.com"})

    assert reply.status_code == 200


def test_ntfy_refuses_a_json_body_over_twice_the_message_limit(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = publish(http, ntfy, {"topic": "alerts", "message": "x" * 9000})

    assert error_of(reply) == (413, 41303)


def test_ntfy_refuses_email_when_the_server_has_none(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, {"topic": "alerts", "email": "a@example.com"})

    assert error_of(reply) == (400, 40001)


def test_ntfy_refuses_an_icon_that_is_not_an_http_url(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = publish(http, ntfy, {"topic": "alerts", "icon": "icon.png"})

    assert error_of(reply) == (400, 40021)


@pytest.mark.parametrize(("method", "path"), [("GET", "/alerts/nothing"), ("DELETE", "/alerts")])
def test_ntfy_answers_404_off_its_routes(
    http: httpx.Client, ntfy: NtfyStandin, method: str, path: str
) -> None:
    reply = http.request(method, f"{ntfy.url}{path}")

    assert error_of(reply) == (404, 40401)


# -- access control ---------------------------------------------------------------------------


def test_ntfy_refuses_an_anonymous_publish_to_a_protected_topic(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.protect_topic("alerts")

    assert error_of(publish(http, ntfy, {"topic": "alerts"})) == (403, 40301)


def test_ntfy_refuses_an_unknown_token(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = publish(http, ntfy, {"topic": "alerts"}, token="tk_" + "0" * 29)

    assert error_of(reply) == (401, 40101)


def test_ntfy_refuses_basic_credentials(http: httpx.Client, ntfy: NtfyStandin) -> None:
    token = ntfy.protect_topic("alerts")

    reply = http.post(
        f"{ntfy.url}/", json={"topic": "alerts"}, headers={"Authorization": f"Basic {token}"}
    )

    assert error_of(reply) == (401, 40101)


def test_ntfy_refuses_a_token_without_access_to_the_topic(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.protect_topic("alerts")
    other = ntfy.protect_topic("other")

    assert error_of(publish(http, ntfy, {"topic": "alerts"}, token=other)) == (403, 40301)


def test_ntfy_publishes_to_a_protected_topic_with_its_token(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    token = ntfy.protect_topic("alerts")

    reply = publish(http, ntfy, {"topic": "alerts"}, token=token)

    assert reply.status_code == 200
    assert ntfy.messages("alerts")[0].token == token
    assert token.startswith("tk_")
    assert len(token) == 32


# -- scripted outcomes ------------------------------------------------------------------------


def test_ntfy_script_429_says_when_to_retry(http: httpx.Client, ntfy: NtfyStandin) -> None:
    ntfy.script("alerts", fail_first(1, 429, retry_after=9))

    reply = publish(http, ntfy, {"topic": "alerts"})

    assert error_of(reply) == (429, 42901)
    assert reply.headers["retry-after"] == "9"


def test_ntfy_script_500_answers_ntfys_internal_error(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.script("alerts", 500)

    assert error_of(publish(http, ntfy, {"topic": "alerts"})) == (500, 50001)


def test_ntfy_script_fails_the_first_attempts_then_publishes(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.script("alerts", fail_first(2, 503))

    statuses = [publish(http, ntfy, {"topic": "alerts"}).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert ntfy.attempts("alerts") == 3
    assert len(ntfy.messages("alerts")) == 1


def test_ntfy_script_reset_closes_the_connection_without_an_answer(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    ntfy.script("alerts", "reset")

    with pytest.raises(httpx.TransportError):
        publish(http, ntfy, {"topic": "alerts"})
