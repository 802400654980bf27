"""The ntfy stand-in authenticates as ntfy does and enforces grants on publish and poll."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.standins import NtfyStandin


def basic(username: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def publish(
    http: httpx.Client, ntfy: NtfyStandin, document: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.post(f"{ntfy.url}/", json=document, headers=headers or {})


def poll(
    http: httpx.Client, ntfy: NtfyStandin, topics: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.get(f"{ntfy.url}/{topics}/json", params={"poll": "1"}, headers=headers or {})


def events(reply: httpx.Response) -> list[dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    return [json.loads(line) for line in reply.text.splitlines()]


def error_of(reply: httpx.Response) -> tuple[int, int]:
    body = reply.json()
    assert body["http"] == reply.status_code
    return reply.status_code, body["code"]


@pytest.fixture
def publisher(private_ntfy: NtfyStandin) -> str:
    """The token pushgate publishes with: write-only on pg_*."""
    private_ntfy.add_user("pushgate", "publisher-password")
    private_ntfy.allow("pushgate", "pg_*", "write-only")
    return private_ntfy.issue_token("pushgate")


@pytest.fixture
def reader(private_ntfy: NtfyStandin) -> dict[str, str]:
    """A managed user who may read pg_alice only, as Basic credentials."""
    private_ntfy.add_user("alice", "alice-password")
    private_ntfy.allow("alice", "pg_alice", "read-only")
    return basic("alice", "alice-password")


# -- publishing -------------------------------------------------------------------------------


def test_ntfy_deny_all_refuses_an_anonymous_publish(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    reply = publish(http, private_ntfy, {"topic": "pg_alice"})

    assert error_of(reply) == (403, 40301)


def test_ntfy_publisher_token_writes_what_its_pattern_allows(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    reply = publish(http, private_ntfy, {"topic": "pg_alice", "message": "hi"}, bearer(publisher))

    assert reply.status_code == 200
    (record,) = private_ntfy.messages("pg_alice")
    assert (record.user, record.token) == ("pushgate", publisher)


@pytest.mark.parametrize("topic", ["other", "pgalice", "xpg_alice"])
def test_ntfy_publisher_token_may_not_write_outside_its_pattern(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str, topic: str
) -> None:
    reply = publish(http, private_ntfy, {"topic": topic}, bearer(publisher))

    assert error_of(reply) == (403, 40301)
    assert private_ntfy.attempts(topic) == 0


def test_ntfy_read_only_user_may_not_publish(
    http: httpx.Client, private_ntfy: NtfyStandin, reader: dict[str, str]
) -> None:
    assert error_of(publish(http, private_ntfy, {"topic": "pg_alice"}, reader)) == (403, 40301)


def test_ntfy_checks_the_message_before_the_grant(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    # transformBodyJSON runs before authorizeTopicWrite: a bad topic is 400, not 403.
    reply = publish(http, private_ntfy, {"topic": "a b"})

    assert error_of(reply) == (400, 40009)


def test_ntfy_an_admin_may_publish_anywhere(http: httpx.Client, private_ntfy: NtfyStandin) -> None:
    token = private_ntfy.new_admin_token()

    assert publish(http, private_ntfy, {"topic": "anything"}, bearer(token)).status_code == 200


# -- authentication ---------------------------------------------------------------------------


def test_ntfy_refuses_a_wrong_password_before_routing(
    http: httpx.Client, private_ntfy: NtfyStandin, reader: dict[str, str]
) -> None:
    wrong = basic("alice", "not-her-password")

    assert error_of(poll(http, private_ntfy, "pg_alice", wrong)) == (401, 40101)
    assert error_of(http.get(f"{private_ntfy.url}/no/such/page", headers=wrong)) == (401, 40101)


def test_ntfy_basic_auth_with_no_username_takes_the_password_as_token(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    reply = publish(http, private_ntfy, {"topic": "pg_x"}, basic("", publisher))

    assert reply.status_code == 200


def test_ntfy_takes_the_auth_query_parameter_as_the_header(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    auth = base64.urlsafe_b64encode(f"Bearer {publisher}".encode()).decode().rstrip("=")

    reply = http.post(f"{private_ntfy.url}/", params={"auth": auth}, json={"topic": "pg_x"})

    assert reply.status_code == 200


def test_ntfy_answers_500_for_an_auth_parameter_with_padding(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    reply = http.post(f"{private_ntfy.url}/", params={"auth": "QQ=="}, json={"topic": "pg_x"})

    assert error_of(reply) == (500, 50001)


def test_ntfy_bearer_must_be_capitalised(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    headers = {"Authorization": f"bearer {publisher}"}

    assert error_of(publish(http, private_ntfy, {"topic": "pg_x"}, headers)) == (401, 40101)


def test_ntfy_treats_an_unknown_scheme_as_anonymous(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    headers = {"Authorization": f"Token {publisher}"}

    # Not a 401: ntfy ignores the header, and anonymous users may not write here.
    assert error_of(publish(http, private_ntfy, {"topic": "pg_x"}, headers)) == (403, 40301)


def test_ntfy_refuses_an_expired_token(http: httpx.Client, private_ntfy: NtfyStandin) -> None:
    private_ntfy.add_user("pushgate", "pw")
    private_ntfy.allow("pushgate", "pg_*", "write-only")
    token = private_ntfy.issue_token("pushgate", expires=int(private_ntfy.now()) - 1)

    assert error_of(publish(http, private_ntfy, {"topic": "pg_x"}, bearer(token))) == (401, 40101)


# -- polling ----------------------------------------------------------------------------------


def test_ntfy_user_reads_the_message_published_to_its_topic(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str, reader: dict[str, str]
) -> None:
    published = publish(
        http,
        private_ntfy,
        {"topic": "pg_alice", "title": "Test", "message": "hello"},
        bearer(publisher),
    ).json()

    reply = poll(http, private_ntfy, "pg_alice", reader)

    assert reply.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert events(reply) == [published]
    assert published["event"] == "message"
    assert (published["title"], published["message"]) == ("Test", "hello")


def test_ntfy_other_user_may_not_read_the_topic(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str, reader: dict[str, str]
) -> None:
    private_ntfy.add_user("bob", "bob-password")
    private_ntfy.allow("bob", "pg_bob", "read-only")
    publish(http, private_ntfy, {"topic": "pg_alice"}, bearer(publisher))

    reply = poll(http, private_ntfy, "pg_alice", basic("bob", "bob-password"))

    assert error_of(reply) == (403, 40301)


def test_ntfy_anonymous_poll_is_refused_with_403_not_401(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    assert error_of(poll(http, private_ntfy, "pg_alice")) == (403, 40301)


def test_ntfy_write_only_publisher_may_not_read(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str
) -> None:
    assert error_of(poll(http, private_ntfy, "pg_alice", bearer(publisher))) == (403, 40301)


def test_ntfy_poll_of_several_topics_needs_read_on_each(
    http: httpx.Client, private_ntfy: NtfyStandin, reader: dict[str, str]
) -> None:
    assert error_of(poll(http, private_ntfy, "pg_alice,pg_bob", reader)) == (403, 40301)


def test_ntfy_poll_answers_nothing_for_a_quiet_topic(
    http: httpx.Client, private_ntfy: NtfyStandin, reader: dict[str, str]
) -> None:
    reply = poll(http, private_ntfy, "pg_alice", reader)

    assert (reply.status_code, reply.text) == (200, "")


def test_ntfy_poll_since_a_message_id_answers_the_later_ones(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    first, second = (
        publish(http, ntfy, {"topic": "news", "message": text}).json() for text in ("1", "2")
    )

    after_first = http.get(f"{ntfy.url}/news/json?poll=1&since={first['id']}")
    nothing = http.get(f"{ntfy.url}/news/json?poll=1&since=none")

    assert [event["id"] for event in events(after_first)] == [second["id"]]
    assert events(nothing) == []


@pytest.mark.parametrize(("since", "expected"), [("latest", ["2"]), ("1h", ["1", "2"])])
def test_ntfy_poll_since_latest_or_a_duration(
    http: httpx.Client, ntfy: NtfyStandin, since: str, expected: list[str]
) -> None:
    for text in ("1", "2"):
        publish(http, ntfy, {"topic": "news", "message": text})

    reply = http.get(f"{ntfy.url}/news/json", headers={"X-Poll": "1", "X-Since": since})

    assert [event["message"] for event in events(reply)] == expected


def test_ntfy_poll_filters_by_title(http: httpx.Client, ntfy: NtfyStandin) -> None:
    publish(http, ntfy, {"topic": "news", "title": "a"})
    publish(http, ntfy, {"topic": "news", "title": "b"})

    reply = http.get(f"{ntfy.url}/news/json?poll=1&title=b")

    assert [event["title"] for event in events(reply)] == ["b"]


def test_ntfy_poll_refuses_an_unparseable_since(http: httpx.Client, ntfy: NtfyStandin) -> None:
    reply = http.get(f"{ntfy.url}/news/json?poll=1&since=yesterday")

    assert error_of(reply) == (400, 40008)


def test_ntfy_poll_does_not_see_an_uncached_message(http: httpx.Client, ntfy: NtfyStandin) -> None:
    published = publish(http, ntfy, {"topic": "news", "cache": "no"}).json()

    assert "expires" not in published
    assert events(http.get(f"{ntfy.url}/news/json?poll=1")) == []
    assert len(ntfy.messages("news")) == 1


def test_ntfy_stand_in_says_it_cannot_stream(http: httpx.Client) -> None:
    with NtfyStandin() as ntfy:
        reply = http.get(f"{ntfy.url}/news/json")

        assert reply.status_code == 500
        assert "polls only" in ntfy.errors()[0]


# -- publishing to /<topic> -------------------------------------------------------------------


def test_ntfy_publishes_the_body_to_the_topic_in_the_path(
    http: httpx.Client, private_ntfy: NtfyStandin, publisher: str, reader: dict[str, str]
) -> None:
    headers = {**bearer(publisher), "Title": "Test", "X-Priority": "high", "Tags": "a, b"}

    reply = http.post(f"{private_ntfy.url}/pg_alice", content=b"  hello\n", headers=headers)

    assert reply.status_code == 200
    (event,) = events(poll(http, private_ntfy, "pg_alice", reader))
    expected = {"title": "Test", "message": "hello", "priority": 4, "tags": ["a", "b"]}
    assert {name: event[name] for name in expected} == expected


def test_ntfy_path_publish_takes_the_message_parameter_when_the_body_is_empty(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = http.post(f"{ntfy.url}/news?message=one\\ntwo")

    assert reply.json()["message"] == "one\ntwo"


def test_ntfy_trims_the_message_and_triggers_an_empty_one(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    trimmed = publish(http, ntfy, {"topic": "news", "message": "  hi \n"}).json()
    blank = publish(http, ntfy, {"topic": "news", "message": "   "}).json()

    assert (trimmed["message"], blank["message"]) == ("hi", "triggered")


def test_ntfy_path_publish_needs_write_access(
    http: httpx.Client, private_ntfy: NtfyStandin, reader: dict[str, str]
) -> None:
    reply = http.put(f"{private_ntfy.url}/pg_alice", content=b"hi", headers=reader)

    assert error_of(reply) == (403, 40301)


def test_ntfy_path_publish_refuses_an_unknown_priority(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    reply = http.post(f"{ntfy.url}/news?priority=loud", content=b"hi")

    assert error_of(reply) == (400, 40007)


def test_ntfy_refuses_a_message_it_would_have_to_attach(
    http: httpx.Client, ntfy: NtfyStandin
) -> None:
    as_json = publish(http, ntfy, {"topic": "news", "message": "x" * 4097})
    as_body = http.post(f"{ntfy.url}/news", content=b"x" * 4097)

    file_name_only = publish(http, ntfy, {"topic": "news", "filename": "a.txt"})

    assert error_of(as_json) == (400, 40014)
    assert error_of(as_body) == (400, 40014)
    assert error_of(file_name_only) == (400, 40014)
