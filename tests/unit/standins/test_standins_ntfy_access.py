"""The ntfy stand-in authenticates as ntfy does and enforces grants on publish and poll."""

from __future__ import annotations

import base64
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
