"""The ntfy stand-in's admin API validates, answers and fails as server_admin.go does."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.standins import NtfyStandin, fail_first, sequence

SUCCESS = {"success": True}


@pytest.fixture
def admin(private_ntfy: NtfyStandin) -> str:
    return private_ntfy.new_admin_token()


def call(
    http: httpx.Client,
    ntfy: NtfyStandin,
    route: str,
    body: Any = None,
    token: str | None = None,
    *,
    content: bytes | None = None,
) -> httpx.Response:
    method, path = route.split(" ")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if content is None and body is not None:
        return http.request(method, f"{ntfy.url}{path}", json=body, headers=headers)
    return http.request(method, f"{ntfy.url}{path}", content=content, headers=headers)


def error_of(reply: httpx.Response) -> tuple[int, int]:
    body = reply.json()
    assert body["http"] == reply.status_code
    return reply.status_code, body["code"]


def can_log_in(http: httpx.Client, ntfy: NtfyStandin, username: str, password: str) -> bool:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    reply = http.get(
        f"{ntfy.url}/pg_any/json?poll=1", headers={"Authorization": f"Basic {credentials}"}
    )
    return reply.status_code != 401


# -- who may call it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    ["GET /v1/users", "POST /v1/users", "PUT /v1/users/access", "DELETE /v1/users/access"],
)
def test_ntfy_admin_api_refuses_anonymous_callers(
    http: httpx.Client, private_ntfy: NtfyStandin, route: str
) -> None:
    reply = call(http, private_ntfy, route, {"username": "alice", "password": "pw"})

    assert error_of(reply) == (401, 40101)
    assert private_ntfy.users() == ()


def test_ntfy_admin_api_refuses_a_user_who_is_not_admin(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    private_ntfy.add_user("pushgate", "pw")
    token = private_ntfy.issue_token("pushgate")

    reply = call(http, private_ntfy, "POST /v1/users", {"username": "a", "password": "b"}, token)

    assert error_of(reply) == (401, 40101)  # ensureAdmin answers 401, not 403


def test_ntfy_admin_api_refuses_an_unknown_token(
    http: httpx.Client, private_ntfy: NtfyStandin
) -> None:
    reply = call(http, private_ntfy, "GET /v1/users", token="tk_" + "0" * 29)

    assert error_of(reply) == (401, 40101)


# -- users ------------------------------------------------------------------------------------


def test_ntfy_admin_api_creates_a_user_who_can_log_in(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "u_1x", "password": "s3cret"}

    reply = call(http, private_ntfy, "POST /v1/users", body, admin)

    assert (reply.status_code, reply.json()) == (200, SUCCESS)
    assert [(u.username, u.role) for u in private_ntfy.users()] == [
        ("admin", "admin"),
        ("u_1x", "user"),
    ]
    assert can_log_in(http, private_ntfy, "u_1x", "s3cret")
    assert not can_log_in(http, private_ntfy, "u_1x", "wrong")


def test_ntfy_admin_api_post_refuses_an_existing_user(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    call(http, private_ntfy, "POST /v1/users", {"username": "alice", "password": "one"}, admin)

    reply = call(
        http, private_ntfy, "POST /v1/users", {"username": "alice", "password": "two"}, admin
    )

    assert error_of(reply) == (409, 40901)
    assert can_log_in(http, private_ntfy, "alice", "one")


def test_ntfy_admin_api_put_creates_or_changes_the_password(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    for password in ("one", "two"):
        reply = call(
            http, private_ntfy, "PUT /v1/users", {"username": "alice", "password": password}, admin
        )
        assert (reply.status_code, reply.json()) == (200, SUCCESS)

    assert can_log_in(http, private_ntfy, "alice", "two")
    assert not can_log_in(http, private_ntfy, "alice", "one")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "", "password": "pw"},
        {"username": "*", "password": "pw"},
        {"username": "has space", "password": "pw"},
        {"username": "alice"},
        {"username": "alice", "password": ""},
        {"password": "pw"},
    ],
    ids=["empty", "everyone", "space", "no-password", "empty-password", "no-username"],
)
def test_ntfy_admin_api_post_refuses_an_invalid_user(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, body: dict[str, str]
) -> None:
    reply = call(http, private_ntfy, "POST /v1/users", body, admin)

    assert error_of(reply) == (400, 40000)
    assert "username invalid, or password/password_hash missing" in reply.json()["error"]


def test_ntfy_admin_api_accepts_the_username_everyone(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    # Only the CLI refuses "everyone"; the API's rule is the username pattern.
    body = {"username": "everyone", "password": "pw"}

    assert call(http, private_ntfy, "POST /v1/users", body, admin).status_code == 200


def test_ntfy_admin_api_put_needs_something_to_change(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    reply = call(http, private_ntfy, "PUT /v1/users", {"username": "alice"}, admin)

    assert error_of(reply) == (400, 40000)


def test_ntfy_admin_api_put_may_not_change_an_admin(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    reply = call(
        http, private_ntfy, "PUT /v1/users", {"username": "admin", "password": "mine"}, admin
    )

    assert error_of(reply) == (403, 40301)


def test_ntfy_admin_api_answers_500_for_a_password_bcrypt_refuses(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "alice", "password": "x" * 73}

    assert error_of(call(http, private_ntfy, "POST /v1/users", body, admin)) == (500, 50001)
    assert [u.username for u in private_ntfy.users()] == ["admin"]


def test_ntfy_admin_api_needs_an_existing_tier(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "alice", "password": "pw", "tier": "pro"}
    refused = call(http, private_ntfy, "POST /v1/users", body, admin)
    private_ntfy.add_tier("pro")

    accepted = call(http, private_ntfy, "POST /v1/users", body, admin)

    assert error_of(refused) == (400, 40030)
    assert accepted.status_code == 200
    listing = call(http, private_ntfy, "GET /v1/users", token=admin).json()
    assert {"username": "alice", "role": "user", "tier": "pro"} in listing


def test_ntfy_admin_api_lists_users_with_grants_and_everyone_last(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    private_ntfy.allow("alice", "pg_alice", "ro")

    reply = call(http, private_ntfy, "GET /v1/users", token=admin)

    assert reply.json() == [
        {"username": "admin", "role": "admin"},
        {
            "username": "alice",
            "role": "user",
            "grants": [{"topic": "pg_alice", "permission": "read-only"}],
        },
        {"username": "*", "role": "anonymous"},
    ]


def test_ntfy_admin_api_delete_removes_the_user_its_grants_and_tokens(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    private_ntfy.allow("alice", "pg_alice", "read-only")
    token = private_ntfy.issue_token("alice")

    reply = call(http, private_ntfy, "DELETE /v1/users", {"username": "alice"}, admin)

    assert (reply.status_code, reply.json()) == (200, SUCCESS)
    assert [u.username for u in private_ntfy.users()] == ["admin"]
    assert (private_ntfy.grants("alice"), private_ntfy.tokens("alice")) == ((), ())
    stale = http.get(
        f"{private_ntfy.url}/pg_alice/json?poll=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert error_of(stale) == (401, 40101)


def test_ntfy_admin_api_delete_of_an_unknown_user_is_400(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    reply = call(http, private_ntfy, "DELETE /v1/users", {"username": "ghost"}, admin)

    assert error_of(reply) == (400, 40031)


@pytest.mark.parametrize("username", ["admin", "*"])
def test_ntfy_admin_api_deletes_only_regular_users(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, username: str
) -> None:
    reply = call(http, private_ntfy, "DELETE /v1/users", {"username": username}, admin)

    assert error_of(reply) == (401, 40101)
    assert "can only remove regular users from API" in reply.json()["error"]


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_ntfy_admin_api_grants_access(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, method: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    body = {"username": "alice", "topic": "pg_alice", "permission": "read-only"}

    reply = call(http, private_ntfy, f"{method} /v1/users/access", body, admin)

    assert (reply.status_code, reply.json()) == (200, SUCCESS)
    assert [(g.topic, g.permission_name) for g in private_ntfy.grants("alice")] == [
        ("pg_alice", "read-only")
    ]
    assert private_ntfy.may("alice", "pg_alice", "read")
    assert not private_ntfy.may("alice", "pg_alice", "write")


def test_ntfy_admin_api_grants_everyone_as_star_only(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    star = {"username": "*", "topic": "news", "permission": "ro"}
    word = {"username": "everyone", "topic": "news", "permission": "ro"}

    assert call(http, private_ntfy, "PUT /v1/users/access", star, admin).status_code == 200
    assert error_of(call(http, private_ntfy, "PUT /v1/users/access", word, admin)) == (400, 40031)
    assert private_ntfy.may(None, "news", "read")


def test_ntfy_admin_api_grant_for_an_unknown_user_is_400(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "ghost", "topic": "pg_x", "permission": "ro"}

    assert error_of(call(http, private_ntfy, "PUT /v1/users/access", body, admin)) == (400, 40031)


@pytest.mark.parametrize("permission", ["", "readonly", "admin"])
def test_ntfy_admin_api_refuses_an_unknown_permission(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, permission: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    body = {"username": "alice", "topic": "pg_x", "permission": permission}

    assert error_of(call(http, private_ntfy, "PUT /v1/users/access", body, admin)) == (400, 40025)


@pytest.mark.parametrize("topic", ["", "a b", "x" * 65])
def test_ntfy_admin_api_answers_500_for_an_invalid_topic_pattern(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, topic: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    body = {"username": "alice", "topic": topic, "permission": "ro"}

    assert error_of(call(http, private_ntfy, "PUT /v1/users/access", body, admin)) == (500, 50001)
    assert private_ntfy.grants("alice") == ()


def test_ntfy_admin_api_reset_removes_one_pattern(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    private_ntfy.allow("alice", "pg_alice", "ro")
    private_ntfy.allow("alice", "pg_*", "ro")
    body = {"username": "alice", "topic": "pg_alice"}

    reply = call(http, private_ntfy, "DELETE /v1/users/access", body, admin)

    assert (reply.status_code, reply.json()) == (200, SUCCESS)
    assert [g.topic for g in private_ntfy.grants("alice")] == ["pg_*"]


def test_ntfy_admin_api_reset_without_topic_removes_every_grant(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    private_ntfy.allow("alice", "one", "ro")
    private_ntfy.allow("alice", "two", "rw")

    call(http, private_ntfy, "DELETE /v1/users/access", {"username": "alice"}, admin)

    assert private_ntfy.grants("alice") == ()


def test_ntfy_admin_api_reset_for_an_unknown_user_is_500(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "ghost", "topic": "pg_x"}

    assert error_of(call(http, private_ntfy, "DELETE /v1/users/access", body, admin)) == (
        500,
        50001,
    )


# -- request bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b'{"username": 7, "password": "pw"}', b"[]", b'"alice"'],
    ids=["empty", "truncated", "wrong-type", "array", "string"],
)
def test_ntfy_admin_api_refuses_a_body_that_does_not_decode(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str, content: bytes
) -> None:
    reply = call(http, private_ntfy, "POST /v1/users", token=admin, content=content)

    assert error_of(reply) == (400, 40024)


def test_ntfy_admin_api_refuses_a_body_over_32k(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"username": "alice", "password": "x" * 40_000}

    assert error_of(call(http, private_ntfy, "POST /v1/users", body, admin)) == (413, 41303)


def test_ntfy_admin_api_matches_keys_ignoring_case_as_go_does(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    body = {"Username": "alice", "PASSWORD": "pw"}

    assert call(http, private_ntfy, "POST /v1/users", body, admin).status_code == 200
    assert can_log_in(http, private_ntfy, "alice", "pw")


def test_ntfy_admin_api_refuses_an_unknown_field_when_strict(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    # "password_hash" is what ntfy's error message says; the field it reads is "hash".
    body = {"username": "alice", "password_hash": "$2a$10$abc"}

    assert error_of(call(http, private_ntfy, "POST /v1/users", body, admin)) == (400, 40024)


def test_ntfy_admin_api_ignores_an_unknown_field_when_lenient(http: httpx.Client) -> None:
    with NtfyStandin(strict=False, default_access="deny-all") as ntfy:
        admin = ntfy.new_admin_token()
        body = {"username": "alice", "password": "pw", "role": "admin"}

        assert call(http, ntfy, "POST /v1/users", body, admin).status_code == 200
        assert [u.role for u in ntfy.users() if u.username == "alice"] == ["user"]


# -- scripted failures ------------------------------------------------------------------------


def test_ntfy_admin_script_fails_a_step_without_doing_it(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.add_user("alice", "pw")
    private_ntfy.script_admin("PUT /v1/users/access", fail_first(1, 500))
    body = {"username": "alice", "topic": "pg_alice", "permission": "ro"}

    failed = call(http, private_ntfy, "PUT /v1/users/access", body, admin)
    granted = private_ntfy.grants("alice")
    retried = call(http, private_ntfy, "PUT /v1/users/access", body, admin)

    assert error_of(failed) == (500, 50001)
    assert granted == ()
    assert retried.status_code == 200
    assert [(c.route, c.status, c.applied) for c in private_ntfy.admin_calls()] == [
        ("PUT /v1/users/access", 500, False),
        ("PUT /v1/users/access", 200, True),
    ]


def test_ntfy_admin_script_applied_does_the_change_then_fails(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.script_admin("POST /v1/users", fail_first(1, 503), applied=True)

    reply = call(http, private_ntfy, "POST /v1/users", {"username": "a", "password": "b"}, admin)

    assert error_of(reply) == (503, 50301)
    assert "a" in {u.username for u in private_ntfy.users()}


def test_ntfy_admin_script_reset_drops_the_connection(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.script_admin("DELETE /v1/users", sequence("reset"))
    private_ntfy.add_user("alice", "pw")

    with pytest.raises(httpx.TransportError):
        call(http, private_ntfy, "DELETE /v1/users", {"username": "alice"}, admin)
    assert "alice" in {u.username for u in private_ntfy.users()}


def test_ntfy_admin_script_429_says_when_to_retry(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.script_admin("GET /v1/users", fail_first(1, 429, retry_after=7))

    reply = call(http, private_ntfy, "GET /v1/users", token=admin)

    assert error_of(reply) == (429, 42901)
    assert reply.headers["retry-after"] == "7"


def test_ntfy_admin_script_does_not_answer_before_the_admin_check(
    http: httpx.Client, private_ntfy: NtfyStandin, admin: str
) -> None:
    private_ntfy.script_admin("GET /v1/users", fail_first(1, 500))

    anonymous = call(http, private_ntfy, "GET /v1/users")
    scripted = call(http, private_ntfy, "GET /v1/users", token=admin)

    assert error_of(anonymous) == (401, 40101)
    assert error_of(scripted) == (500, 50001)


def test_ntfy_admin_script_refuses_an_unknown_route(private_ntfy: NtfyStandin) -> None:
    with pytest.raises(ValueError, match="unknown admin route"):
        private_ntfy.script_admin("PATCH /v1/users", 500)
    with pytest.raises(ValueError, match="unknown outcome"):
        private_ntfy.script_admin("GET /v1/users", 507)


def test_ntfy_new_admin_token_refuses_to_hand_a_user_an_admin_token(
    private_ntfy: NtfyStandin,
) -> None:
    private_ntfy.add_user("alice", "pw")

    with pytest.raises(ValueError, match="not an admin"):
        private_ntfy.new_admin_token("alice")
    assert private_ntfy.new_admin_token() != private_ntfy.new_admin_token()
