"""ntfy's admin API (server/server_admin.go): users and their access, for an admin only.

Each handler takes the body and the user manager and returns the JSON to answer, or raises
the Refusal ntfy answers. Where ntfy passes a user-package error on unmapped, its handler
turns it into 500 internal server error (server.go handleError); so do these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.standins._ntfy_errors import (
    BAD_REQUEST,
    FORBIDDEN,
    INTERNAL_ERROR,
    PERMISSION_INVALID,
    TIER_INVALID,
    UNAUTHORIZED,
    USER_EXISTS,
    USER_NOT_FOUND,
    refusal,
    wrap,
)
from tests.standins._ntfy_json import decode, is_string
from tests.standins._server import Refusal
from tests.standins.ntfy_users import (
    ROLE_USER,
    NtfyUser,
    NtfyUserError,
    NtfyUsers,
    UserNotFoundError,
    allowed_username,
    parse_permission,
)

# server/types.go request structs; every field is a string.
_USER_FIELDS = dict.fromkeys(("username", "password", "hash", "tier"), is_string)
_DELETE_FIELDS = {"username": is_string}
_ALLOW_FIELDS = dict.fromkeys(("username", "topic", "permission"), is_string)
_RESET_FIELDS = dict.fromkeys(("username", "topic"), is_string)
SUCCESS = {"success": True}  # newSuccessResponse

Handler = Callable[[NtfyUsers, bytes, bool], Any]


def _internal(error: Exception) -> Refusal:
    return refusal(INTERNAL_ERROR, f"ntfy passes {type(error).__name__} on as a 500: {error}")


def _find(users: NtfyUsers, username: str) -> NtfyUser | None:
    try:
        return users.user(username)
    except UserNotFoundError:
        return None


def users_get(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleUsersGet: every user, everyone ("*") last, with tier and grants if any."""
    listing = []
    for user in users.users():
        entry: dict[str, Any] = {"username": user.username, "role": user.role}
        if user.tier:
            entry["tier"] = user.tier
        grants = [
            {"topic": grant.topic, "permission": grant.permission_name}
            for grant in users.grants(user.username)
        ]
        if grants:
            entry["grants"] = grants
        listing.append(entry)
    return listing


def users_add(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleUsersAdd (POST): creates a user; 409 when the name is taken."""
    request = decode(body, _USER_FIELDS, strict=strict)
    username, password = request.get("username", ""), request.get("password", "")
    password_hash, tier = request.get("hash", ""), request.get("tier", "")
    if not allowed_username(username) or (password == "" and password_hash == ""):
        # The message says password_hash; the JSON field is "hash".
        raise refusal(wrap(BAD_REQUEST, "username invalid, or password/password_hash missing"))
    if _find(users, username) is not None:
        raise refusal(USER_EXISTS)
    if tier and not users.has_tier(tier):
        raise refusal(TIER_INVALID)
    try:
        users.add_user(username, password_hash or password, ROLE_USER, hashed=bool(password_hash))
        if tier:
            users.change_tier(username, tier)
    except NtfyUserError as error:  # bcrypt's 72-byte limit among them
        raise _internal(error) from None
    return SUCCESS


def users_update(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleUsersUpdate (PUT): changes the password and/or tier, or creates the user.

    Not atomic: the user is created or changed before the tier is checked, and a PUT with a
    tier only creates a missing user with an empty password.
    """
    request = decode(body, _USER_FIELDS, strict=strict)
    username, password = request.get("username", ""), request.get("password", "")
    password_hash, tier = request.get("hash", ""), request.get("tier", "")
    if not allowed_username(username):
        raise refusal(wrap(BAD_REQUEST, "username invalid"))
    if password == "" and password_hash == "" and tier == "":
        raise refusal(
            wrap(
                BAD_REQUEST,
                'need to provide at least one of "password", "password_hash" or "tier"',
            )
        )
    existing = _find(users, username)
    if existing is not None and existing.is_admin:
        raise refusal(FORBIDDEN, "ntfy does not change an admin from the API")
    secret, hashed = (password_hash, True) if password_hash else (password, False)
    try:
        if existing is None:
            users.add_user(username, secret, ROLE_USER, hashed=hashed)
        elif secret:
            users.change_password(username, secret, hashed=hashed)
    except NtfyUserError as error:
        raise _internal(error) from None
    if tier:
        if not users.has_tier(tier):
            raise refusal(TIER_INVALID)
        users.change_tier(username, tier)
    return SUCCESS


def users_delete(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleUsersDelete: removes a regular user with its grants and tokens."""
    request = decode(body, _DELETE_FIELDS, strict=strict)
    username = request.get("username", "")
    user = _find(users, username)
    if user is None:
        raise refusal(USER_NOT_FOUND)
    if user.role != ROLE_USER:  # an admin, or everyone
        raise refusal(wrap(UNAUTHORIZED, "can only remove regular users from API"))
    users.remove_user(username)
    return SUCCESS


def access_allow(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleAccessAllow (PUT or POST): grants a user, or everyone ("*"), a permission on a
    topic or pattern, replacing its entry for that same pattern."""
    request = decode(body, _ALLOW_FIELDS, strict=strict)
    username = request.get("username", "")
    if _find(users, username) is None:
        raise refusal(USER_NOT_FOUND)
    try:
        permission = parse_permission(request.get("permission", ""))
    except ValueError:
        raise refusal(PERMISSION_INVALID) from None
    try:
        users.allow_access(username, request.get("topic", ""), permission)
    except NtfyUserError as error:  # an invalid topic pattern is not mapped: a 500
        raise _internal(error) from None
    return SUCCESS


def access_reset(users: NtfyUsers, body: bytes, strict: bool) -> Any:
    """handleAccessReset: removes the user's entry for exactly that pattern, or every entry
    of the user when the topic is empty or missing. An unknown user is a 500, not a 400."""
    request = decode(body, _RESET_FIELDS, strict=strict)
    username = request.get("username", "")
    try:
        users.user(username)
        users.reset_access(username, request.get("topic", ""))
    except NtfyUserError as error:
        raise _internal(error) from None
    return SUCCESS


# server.go handleInternal: the admin routes, each wrapped in ensureAdmin.
ROUTES: dict[str, Handler] = {
    "GET /v1/users": users_get,
    "POST /v1/users": users_add,
    "PUT /v1/users": users_update,
    "DELETE /v1/users": users_delete,
    "PUT /v1/users/access": access_allow,
    "POST /v1/users/access": access_allow,
    "DELETE /v1/users/access": access_reset,
}
