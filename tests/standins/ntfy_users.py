"""ntfy's user manager (user/manager.go, user/types.go): accounts, tokens and the access
control list, with ntfy's validation and its rule for which grant decides an access."""

from __future__ import annotations

import enum
import hmac
import re
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pushgate import clock

EVERYONE = "*"  # user.Everyone: the anonymous user, which grants for "everyone" belong to
ROLE_ADMIN = "admin"
ROLE_USER = "user"
ROLE_ANONYMOUS = "anonymous"
# user/types.go
_USERNAME = re.compile(r"^[-_.+@a-zA-Z0-9]+$")  # no length limit, and no "*"
_TOPIC_PATTERN = re.compile(r"^[-_*A-Za-z0-9]{1,64}$")
# user/manager.go: tokens are "tk_" and 29 lowercase letters and digits, 32 in all.
TOKEN_PREFIX = "tk_"
TOKEN_LENGTH = 32
TOKEN_MAX_COUNT = 60  # tokenMaxCount: more than this per user and CreateToken prunes
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
BCRYPT_MAX_PASSWORD_BYTES = 72  # golang.org/x/crypto/bcrypt refuses longer passwords


class Permission(enum.IntFlag):
    """user.Permission: a read bit and a write bit."""

    DENY_ALL = 0
    READ = 1
    WRITE = 2
    READ_WRITE = 3

    @property
    def ntfy_name(self) -> str:
        """Permission.String(): how ntfy names it in its API."""
        return _PERMISSION_NAMES[self]


_PERMISSION_NAMES = {
    Permission.READ_WRITE: "read-write",
    Permission.READ: "read-only",
    Permission.WRITE: "write-only",
    Permission.DENY_ALL: "deny-all",
}
# user.ParsePermission, after strings.ToLower.
_PERMISSIONS = {
    "read-write": Permission.READ_WRITE,
    "rw": Permission.READ_WRITE,
    "read-only": Permission.READ,
    "read": Permission.READ,
    "ro": Permission.READ,
    "write-only": Permission.WRITE,
    "write": Permission.WRITE,
    "wo": Permission.WRITE,
    "deny-all": Permission.DENY_ALL,
    "deny": Permission.DENY_ALL,
    "none": Permission.DENY_ALL,
}


def parse_permission(text: str) -> Permission:
    """user.ParsePermission; ValueError for anything else."""
    try:
        return _PERMISSIONS[text.lower()]
    except KeyError:
        raise ValueError(f"invalid permission {text!r}") from None


def allowed_username(username: str) -> bool:
    return bool(_USERNAME.match(username))


def allowed_topic_pattern(pattern: str) -> bool:
    return bool(_TOPIC_PATTERN.match(pattern))


class NtfyUserError(Exception):
    """The errors of ntfy's user package (user/types.go)."""


class InvalidArgumentError(NtfyUserError):
    """ErrInvalidArgument: a username or topic pattern ntfy does not allow."""


class UserNotFoundError(NtfyUserError):
    """ErrUserNotFound."""


class UserExistsError(NtfyUserError):
    """ErrUserExists."""


class TierNotFoundError(NtfyUserError):
    """ErrTierNotFound."""


class UnauthenticatedError(NtfyUserError):
    """ErrUnauthenticated: wrong password, unknown user or token, expired token."""


class PasswordTooLongError(NtfyUserError):
    """bcrypt.ErrPasswordTooLong, which ntfy passes on as a plain error (so a 500)."""


@dataclass(frozen=True, slots=True)
class NtfyGrant:
    """One access control entry: a topic or pattern (`*` is any run of characters)."""

    topic: str
    permission: Permission

    @property
    def permission_name(self) -> str:
        return self.permission.ntfy_name


@dataclass(frozen=True, slots=True)
class NtfyToken:
    value: str
    label: str
    expires: int  # unix seconds; 0 never expires


@dataclass(frozen=True, slots=True)
class NtfyUser:
    username: str
    role: str
    tier: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


@dataclass(slots=True)
class _Account:
    username: str
    role: str
    password: str | None  # what bcrypt would have hashed; None when created from a hash
    password_hash: str | None
    tier: str | None = None
    grants: dict[str, Permission] = field(default_factory=dict)  # topic pattern -> permission
    tokens: dict[str, NtfyToken] = field(default_factory=dict)

    def view(self) -> NtfyUser:
        return NtfyUser(self.username, self.role, self.tier)


_ROLE_ORDER = {ROLE_ADMIN: 1, ROLE_USER: 2, ROLE_ANONYMOUS: 3}


class NtfyUsers:
    """ntfy's user.Manager, in memory and safe across threads.

    Methods mirror the Go ones and raise their errors; the HTTP handlers decide what each
    error becomes, as server_admin.go does.
    """

    def __init__(
        self,
        default_access: Permission = Permission.READ_WRITE,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.default_access = default_access  # auth-default-access
        self._now = now if now is not None else clock.epoch
        self._tiers: set[str] = set()
        # The everyone user always exists (createTablesQueries inserts it).
        self._accounts: dict[str, _Account] = {
            EVERYONE: _Account(EVERYONE, ROLE_ANONYMOUS, password=None, password_hash="")
        }
        self._lock = threading.RLock()

    # -- accounts --------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, role: str = ROLE_USER, *, hashed: bool = False
    ) -> None:
        """AddUser: ErrInvalidArgument, bcrypt's too-long error, or ErrUserExists."""
        if not allowed_username(username) or role not in (ROLE_ADMIN, ROLE_USER):
            raise InvalidArgumentError(f"username {username!r} or role {role!r} not allowed")
        secret, secret_hash = _secret(password, hashed=hashed)
        with self._lock:
            if username in self._accounts:
                raise UserExistsError(username)
            self._accounts[username] = _Account(username, role, secret, secret_hash)

    def remove_user(self, username: str) -> None:
        """RemoveUser: deletes the user; its grants and tokens go with it (the foreign keys
        of user_access and user_token cascade). No error when the user did not exist."""
        if not allowed_username(username):
            raise InvalidArgumentError(username)
        with self._lock:
            self._accounts.pop(username, None)

    def change_password(self, username: str, password: str, *, hashed: bool = False) -> None:
        """ChangePassword: an UPDATE, so nothing happens for a user that does not exist.
        The user's tokens stay valid."""
        secret, secret_hash = _secret(password, hashed=hashed)
        with self._lock:
            account = self._accounts.get(username)
            if account is not None:
                account.password, account.password_hash = secret, secret_hash

    def add_tier(self, code: str) -> None:
        """`ntfy tier add CODE`: a tier the admin API may assign."""
        with self._lock:
            self._tiers.add(code)

    def has_tier(self, code: str) -> bool:
        with self._lock:
            return code in self._tiers

    def change_tier(self, username: str, tier: str) -> None:
        """ChangeTier: ErrInvalidArgument, ErrTierNotFound or ErrUserNotFound."""
        if not allowed_username(username):
            raise InvalidArgumentError(username)
        with self._lock:
            if tier not in self._tiers:
                raise TierNotFoundError(tier)
            self._account(username).tier = tier

    def user(self, username: str) -> NtfyUser:
        """User: ErrUserNotFound; EVERYONE is the anonymous user."""
        with self._lock:
            return self._account(username).view()

    def users(self) -> tuple[NtfyUser, ...]:
        """Users (selectUsernamesQuery): admins, users, then everyone; each by name."""
        with self._lock:
            accounts = sorted(
                self._accounts.values(),
                key=lambda account: (_ROLE_ORDER[account.role], account.username),
            )
            return tuple(account.view() for account in accounts)

    # -- authentication ----------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> NtfyUser:
        """Authenticate: ErrUnauthenticated for everyone, an unknown user or a wrong
        password."""
        with self._lock:
            account = self._accounts.get(username)
            if username == EVERYONE or account is None:
                raise UnauthenticatedError(username)
            if account.password is None:
                # Created from a bcrypt hash: the stand-in cannot check it, so it says so
                # rather than answer what ntfy might not.
                raise NotImplementedError(f"{username} was created from a hash; use password")
            if not hmac.compare_digest(account.password.encode(), password.encode()):
                raise UnauthenticatedError(username)
            return account.view()

    def create_token(self, username: str, label: str = "", expires: int = 0) -> NtfyToken:
        """CreateToken for an existing user; keeps at most TOKEN_MAX_COUNT per user."""
        value = TOKEN_PREFIX + "".join(
            secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH - len(TOKEN_PREFIX))
        )
        token = NtfyToken(value, label, expires)
        with self._lock:
            account = self._account(username)
            account.tokens[value] = token
            if len(account.tokens) >= TOKEN_MAX_COUNT:
                # deleteExcessTokensQuery keeps the 60 with the latest expiry: a token that
                # never expires (0) sorts last and goes first. Ties are SQLite's choice; the
                # stand-in keeps the newest.
                newest_first = list(reversed(account.tokens.values()))
                ranked = sorted(newest_first, key=lambda t: t.expires, reverse=True)
                kept = {t.value for t in ranked[:TOKEN_MAX_COUNT]}
                account.tokens = {v: t for v, t in account.tokens.items() if v in kept}
        return token

    def remove_token(self, username: str, value: str) -> None:
        with self._lock:
            self._account(username).tokens.pop(value, None)

    def tokens(self, username: str) -> tuple[NtfyToken, ...]:
        with self._lock:
            account = self._accounts.get(username)
            return tuple(account.tokens.values()) if account is not None else ()

    def authenticate_token(self, value: str) -> NtfyUser:
        """AuthenticateToken: 32 characters, known, and not expired (expires 0 or >= now)."""
        if len(value) != TOKEN_LENGTH:
            raise UnauthenticatedError("token length")
        now = int(self._now())
        with self._lock:
            for account in self._accounts.values():
                token = account.tokens.get(value)
                if token is not None and (token.expires == 0 or token.expires >= now):
                    return account.view()
        raise UnauthenticatedError("unknown or expired token")

    # -- access control ----------------------------------------------------------------------

    def allow_access(self, username: str, pattern: str, permission: Permission) -> None:
        """AllowAccess: creates or replaces the user's entry for exactly this pattern."""
        if not (allowed_username(username) or username == EVERYONE):
            raise InvalidArgumentError(username)
        if not allowed_topic_pattern(pattern):
            raise InvalidArgumentError(pattern)
        with self._lock:
            self._account(username).grants[pattern] = permission

    def reset_access(self, username: str, pattern: str) -> None:
        """ResetAccess: removes the entry for exactly `pattern` (not the entries it
        matches), or every entry of the user when `pattern` is empty."""
        if not (allowed_username(username) or username in (EVERYONE, "")):
            raise InvalidArgumentError(username)
        if not (allowed_topic_pattern(pattern) or pattern == ""):
            raise InvalidArgumentError(pattern)
        with self._lock:
            if username == "" and pattern == "":
                for account in self._accounts.values():
                    account.grants.clear()
                return
            account = self._accounts.get(username)
            if account is None:
                return
            if pattern == "":
                account.grants.clear()
            else:
                account.grants.pop(pattern, None)

    def grants(self, username: str) -> tuple[NtfyGrant, ...]:
        """Grants, in selectUserAccessQuery's order: longest pattern, write, read, topic."""
        with self._lock:
            account = self._accounts.get(username)
            entries = list(account.grants.items()) if account is not None else []
        entries.sort(
            key=lambda item: (
                -_sql_length(item[0]),
                -(item[1] & Permission.WRITE),
                -(item[1] & Permission.READ),
                item[0],
            )
        )
        return tuple(NtfyGrant(topic, permission) for topic, permission in entries)

    def authorize(self, username: str | None, topic: str, wanted: Permission) -> bool:
        """Authorize: may this user (None: anonymous) read or write `topic`?

        Admins may do everything. Otherwise the first entry that matches decides, in
        selectTopicPermsQuery's order: the user's own entries before everyone's (ORDER BY
        u.user DESC, and "*" sorts below every allowed username), then the longest
        pattern, then one that allows writing. With no entry, auth-default-access decides.
        """
        with self._lock:
            account = self._accounts.get(username) if username is not None else None
            if account is not None and account.role == ROLE_ADMIN:
                return True
            candidates: list[tuple[int, int, int, Permission]] = []
            owners = [account] if account is not None else []
            owners.append(self._accounts[EVERYONE])
            for rank, owner in enumerate(owners):
                for pattern, permission in owner.grants.items():
                    if _matches(pattern, topic):
                        write = -(permission & Permission.WRITE)
                        candidates.append((rank, -_sql_length(pattern), write, permission))
        if not candidates:
            return bool(self.default_access & wanted)
        decisive = min(candidates, key=lambda candidate: candidate[:3])[3]
        return bool(decisive & wanted)

    def _account(self, username: str) -> _Account:
        account = self._accounts.get(username)
        if account is None:
            raise UserNotFoundError(username)
        return account


def _secret(password: str, *, hashed: bool) -> tuple[str | None, str | None]:
    """(password, hash) as the stand-in keeps them; bcrypt's limit applies to passwords."""
    if hashed:
        return None, password
    if len(password.encode()) > BCRYPT_MAX_PASSWORD_BYTES:
        raise PasswordTooLongError("bcrypt: password length exceeds 72 bytes")
    return password, None


def _matches(pattern: str, topic: str) -> bool:
    """`topic LIKE pattern ESCAPE '\\'` after toSQLWildcard ("*" -> "%", "_" escaped):
    "*" is any run of characters, even none, and SQLite's LIKE ignores ASCII case."""
    regex = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, topic, re.IGNORECASE | re.ASCII) is not None


def _sql_length(pattern: str) -> int:
    """LENGTH(a.topic) of the stored pattern, where each "_" is stored escaped as "\\_"."""
    return len(pattern) + pattern.count("_")
