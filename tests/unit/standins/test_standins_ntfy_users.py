"""The ntfy stand-in's user manager validates and decides access as ntfy's user.Manager."""

from __future__ import annotations

import pytest

from tests.standins.ntfy_users import (
    EVERYONE,
    TOKEN_MAX_COUNT,
    InvalidArgumentError,
    NtfyUsers,
    PasswordTooLongError,
    Permission,
    TierNotFoundError,
    UnauthenticatedError,
    UserExistsError,
    UserNotFoundError,
    parse_permission,
)

READ, WRITE = Permission.READ, Permission.WRITE


@pytest.fixture
def users() -> NtfyUsers:
    return NtfyUsers(default_access=Permission.DENY_ALL, now=lambda: 1_000_000.0)


@pytest.mark.parametrize(
    ("text", "permission"),
    [
        ("read-write", Permission.READ_WRITE),
        ("RW", Permission.READ_WRITE),
        ("read-only", READ),
        ("read", READ),
        ("ro", READ),
        ("write-only", WRITE),
        ("write", WRITE),
        ("wo", WRITE),
        ("deny-all", Permission.DENY_ALL),
        ("deny", Permission.DENY_ALL),
        ("none", Permission.DENY_ALL),
    ],
)
def test_ntfy_users_parse_every_permission_ntfy_accepts(text: str, permission: Permission) -> None:
    assert parse_permission(text) == permission


@pytest.mark.parametrize("text", ["", "readwrite", "r", "admin", "read-only "])
def test_ntfy_users_refuse_other_permission_strings(text: str) -> None:
    with pytest.raises(ValueError, match="invalid permission"):
        parse_permission(text)


def test_ntfy_users_name_permissions_as_ntfy_prints_them() -> None:
    names = [p.ntfy_name for p in (Permission.READ_WRITE, READ, WRITE, Permission.DENY_ALL)]

    assert names == ["read-write", "read-only", "write-only", "deny-all"]


@pytest.mark.parametrize("username", ["alice", "a.b+c@d_e-f", "x" * 500, "everyone"])
def test_ntfy_users_accept_ntfys_usernames(users: NtfyUsers, username: str) -> None:
    users.add_user(username, "secret")

    assert users.user(username).role == "user"


@pytest.mark.parametrize("username", ["", "*", "has space", "ümlaut", "a/b", "a:b"])
def test_ntfy_users_refuse_other_usernames(users: NtfyUsers, username: str) -> None:
    with pytest.raises(InvalidArgumentError):
        users.add_user(username, "secret")


def test_ntfy_users_refuse_a_second_user_of_the_same_name(users: NtfyUsers) -> None:
    users.add_user("alice", "one")

    with pytest.raises(UserExistsError):
        users.add_user("alice", "two")


def test_ntfy_users_refuse_a_password_bcrypt_cannot_hash(users: NtfyUsers) -> None:
    with pytest.raises(PasswordTooLongError):
        users.add_user("alice", "x" * 73)
    users.add_user("alice", "x" * 72)


def test_ntfy_users_list_admins_then_users_then_everyone(users: NtfyUsers) -> None:
    users.add_user("zed", "pw")
    users.add_user("root", "pw", role="admin")
    users.add_user("amy", "pw")

    assert [(u.username, u.role) for u in users.users()] == [
        ("root", "admin"),
        ("amy", "user"),
        ("zed", "user"),
        (EVERYONE, "anonymous"),
    ]


def test_ntfy_users_authenticate_by_password(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")

    assert users.authenticate("alice", "secret").username == "alice"
    with pytest.raises(UnauthenticatedError):
        users.authenticate("alice", "Secret")
    with pytest.raises(UnauthenticatedError):
        users.authenticate("bob", "secret")
    with pytest.raises(UnauthenticatedError):
        users.authenticate(EVERYONE, "")


def test_ntfy_users_tokens_are_ntfys_shape_and_expire(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    forever = users.create_token("alice").value
    expired = users.create_token("alice", expires=999_999).value

    assert forever.startswith("tk_")
    assert len(forever) == 32
    assert forever == forever.lower()
    assert users.authenticate_token(forever).username == "alice"
    with pytest.raises(UnauthenticatedError):
        users.authenticate_token(expired)
    with pytest.raises(UnauthenticatedError):
        users.authenticate_token(forever[:-1])


def test_ntfy_users_keep_at_most_60_tokens_dropping_never_expiring_first(
    users: NtfyUsers,
) -> None:
    users.add_user("alice", "secret")
    forever = users.create_token("alice").value
    for _ in range(TOKEN_MAX_COUNT):
        users.create_token("alice", expires=2_000_000)

    values = [token.value for token in users.tokens("alice")]
    assert len(values) == TOKEN_MAX_COUNT
    assert forever not in values


def test_ntfy_users_token_for_an_unknown_user_is_refused(users: NtfyUsers) -> None:
    with pytest.raises(UserNotFoundError):
        users.create_token("ghost")


def test_ntfy_users_removing_a_user_removes_its_grants_and_tokens(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "pg_abc", READ)
    token = users.create_token("alice").value

    users.remove_user("alice")
    users.add_user("alice", "again")

    assert users.grants("alice") == ()
    assert users.tokens("alice") == ()
    with pytest.raises(UnauthenticatedError):
        users.authenticate_token(token)


def test_ntfy_users_change_tier_needs_the_tier(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    with pytest.raises(TierNotFoundError):
        users.change_tier("alice", "pro")
    users.add_tier("pro")

    users.change_tier("alice", "pro")

    assert users.user("alice").tier == "pro"


# -- access control ---------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["", "a b", "a/b", "x" * 65, "topic?"])
def test_ntfy_users_refuse_an_invalid_topic_pattern(users: NtfyUsers, pattern: str) -> None:
    users.add_user("alice", "secret")

    with pytest.raises(InvalidArgumentError):
        users.allow_access("alice", pattern, READ)


def test_ntfy_users_grant_replaces_the_entry_for_the_same_pattern(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "pg_abc", READ)

    users.allow_access("alice", "pg_abc", WRITE)

    assert [(g.topic, g.permission_name) for g in users.grants("alice")] == [
        ("pg_abc", "write-only")
    ]


def test_ntfy_users_default_access_decides_without_an_entry() -> None:
    open_server = NtfyUsers()  # auth-default-access defaults to read-write
    closed_server = NtfyUsers(default_access=Permission.DENY_ALL)

    assert open_server.authorize(None, "news", WRITE)
    assert not closed_server.authorize(None, "news", READ)


@pytest.mark.parametrize(
    ("topic", "allowed"),
    [("pg_abc", True), ("pg_", True), ("PG_ABC", True), ("pgabc", False), ("xpg_abc", False)],
)
def test_ntfy_users_wildcard_matches_like_sqlites_like(
    users: NtfyUsers, topic: str, allowed: bool
) -> None:
    users.add_user("publisher", "secret")
    users.allow_access("publisher", "pg_*", WRITE)

    assert users.authorize("publisher", topic, WRITE) is allowed


def test_ntfy_users_write_only_does_not_allow_reading(users: NtfyUsers) -> None:
    users.add_user("publisher", "secret")
    users.allow_access("publisher", "pg_*", WRITE)

    assert not users.authorize("publisher", "pg_abc", READ)


def test_ntfy_users_the_longer_pattern_wins(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "*", Permission.READ_WRITE)
    users.allow_access("alice", "pg_*", Permission.DENY_ALL)

    assert users.authorize("alice", "other", WRITE)
    assert not users.authorize("alice", "pg_abc", READ)


def test_ntfy_users_the_users_entry_wins_over_everyones(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access(EVERYONE, "pg_abc", Permission.READ_WRITE)
    users.allow_access("alice", "*", Permission.DENY_ALL)

    assert users.authorize(None, "pg_abc", READ)
    assert not users.authorize("alice", "pg_abc", READ)


def test_ntfy_users_everyones_entry_applies_to_users_without_one(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access(EVERYONE, "news", READ)

    assert users.authorize("alice", "news", READ)
    assert not users.authorize("alice", "news", WRITE)


def test_ntfy_users_on_equal_length_the_entry_allowing_write_wins(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "ab*", READ)
    users.allow_access("alice", "*bc", WRITE)

    assert users.authorize("alice", "abc", WRITE)
    assert not users.authorize("alice", "abc", READ)


def test_ntfy_users_an_admin_may_do_everything(users: NtfyUsers) -> None:
    users.add_user("root", "secret", role="admin")
    users.allow_access(EVERYONE, "*", Permission.DENY_ALL)

    assert users.authorize("root", "anything", READ)
    assert users.authorize("root", "anything", WRITE)


def test_ntfy_users_reset_removes_the_exact_pattern_only(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "pg_*", READ)
    users.allow_access("alice", "pg_abc", READ)

    users.reset_access("alice", "pg_abc")

    assert [g.topic for g in users.grants("alice")] == ["pg_*"]


def test_ntfy_users_reset_without_a_topic_removes_all_of_the_users_entries(
    users: NtfyUsers,
) -> None:
    users.add_user("alice", "secret")
    users.allow_access("alice", "one", READ)
    users.allow_access("alice", "two", READ)

    users.reset_access("alice", "")

    assert users.grants("alice") == ()


def test_ntfy_users_grants_are_listed_most_specific_first(users: NtfyUsers) -> None:
    users.add_user("alice", "secret")
    for pattern, permission in [("*", READ), ("abcd", READ), ("a_c", READ), ("wxyz", WRITE)]:
        users.allow_access("alice", pattern, permission)

    # "a_c" is stored as "a\_c": as long as "abcd", and ordered by topic after write.
    assert [g.topic for g in users.grants("alice")] == ["wxyz", "a_c", "abcd", "*"]
