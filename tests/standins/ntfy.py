"""A stand-in for an ntfy server with access control: publishing (JSON at `/`, or to
`/<topic>`), polling (`GET /<topics>/json?poll=1`) and the admin API (`/v1/users`,
`/v1/users/access`), checking what ntfy checks (action buttons too) and answering with ntfy's
JSON; `tap` presses an `http` action button as the ntfy Android app does."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from tests.standins._ntfy_actions import actions_header, parse_actions
from tests.standins._ntfy_admin import ROUTES as ADMIN_ROUTES
from tests.standins._ntfy_app import send_http_action
from tests.standins._ntfy_auth import Caller, authenticate
from tests.standins._ntfy_errors import (
    ATTACHMENT_URL_INVALID,
    ATTACHMENTS_DISALLOWED,
    EMAIL_DISABLED,
    FORBIDDEN,
    ICON_URL_INVALID,
    NOT_FOUND,
    PRIORITY_INVALID,
    SCRIPTED,
    TOPIC_INVALID,
    UNAUTHORIZED,
    error_response,
    refusal,
)
from tests.standins._ntfy_ids import MESSAGE_ID_LENGTH, random_string
from tests.standins._ntfy_json import (
    decode,
    is_boolean,
    is_integer,
    is_list,
    is_string,
    is_string_list,
)
from tests.standins._ntfy_params import parse_priority, read_bool_param, read_param
from tests.standins._ntfy_poll import parse_filters, parse_since, select
from tests.standins._recording import Recording
from tests.standins._script import OK, RESET, Behaviour, Script, Step, as_script
from tests.standins._server import RESET as RESET_REPLY
from tests.standins._server import Refusal, Reply, Request, Response, StandinServer
from tests.standins.ntfy_users import (
    EVERYONE,
    ROLE_ADMIN,
    ROLE_USER,
    NtfyGrant,
    NtfyToken,
    NtfyUser,
    NtfyUsers,
    Permission,
    parse_permission,
)

# ntfy server/server.go and server/topic.go.
_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_TOPIC_PATH = re.compile(r"^/[-_A-Za-z0-9]{1,64}$")
_JSON_PATH = re.compile(r"^/[-_A-Za-z0-9]{1,64}(,[-_A-Za-z0-9]{1,64})*/json$")
_URL = re.compile(r"^https?://")
MESSAGE_LIMIT = 4096
JSON_BODY_LIMIT = 2 * MESSAGE_LIMIT  # ntfy reads at most twice the message limit as JSON
CACHE_DURATION = 12 * 3600
OUTCOMES = frozenset({OK, RESET, 429, 500, 502, 503, 507})
ADMIN_OUTCOMES = frozenset({OK, RESET, 429, 500, 502, 503})
DEFAULT_RETRY_AFTER = 1
_CORS = (("access-control-allow-origin", "*"),)
_NDJSON = (("content-type", "application/x-ndjson; charset=utf-8"), *_CORS)
_EVERYONE_NAMES = ("everyone", EVERYONE)  # how the CLI names the anonymous user
PUSHGATE_ADMIN, PUSHGATE_PUBLISHER = "pushgate-admin", "pushgate-publisher"

# ntfy's publishMessage: Go's decoder refuses a wrong type (null is the zero value).
FIELDS = {
    "topic": is_string,
    "message": is_string,
    "title": is_string,
    "tags": is_string_list,
    "priority": is_integer,
    "actions": is_list,  # its elements as _ntfy_actions decodes them
    "click": is_string,
    "attach": is_string,
    "markdown": is_boolean,
    "icon": is_string,
    "filename": is_string,
    "delay": is_string,
    "email": is_string,
    "call": is_string,
    "cache": is_string,
    "firebase": is_string,
}


@dataclass(frozen=True, slots=True)
class NtfyMessage:
    """One valid publish and what the stand-in answered."""

    topic: str
    # The JSON as posted; for `POST /<topic>`, its parameters as the equivalent JSON.
    request: Mapping[str, Any]
    response: Mapping[str, Any] | None  # ntfy's message JSON when delivered
    status: int  # 200 delivered; a scripted status; 0 when the connection was reset
    token: str | None  # the token it was published with (Bearer, or Basic with no user)
    http_version: str
    received_at: float
    user: str | None = None  # who published it; None when anonymous
    cached: bool = True  # False for "cache": "no": delivered, but no poll will see it

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def device(self) -> str:
        return self.topic

    @property
    def notification_id(self) -> str | None:
        return None  # ntfy messages carry no notification id; read `request` instead

    @property
    def title(self) -> str | None:
        return self.request.get("title")

    @property
    def message(self) -> str | None:
        return self.request.get("message")

    @property
    def actions(self) -> tuple[Mapping[str, Any], ...]:
        """The action buttons as ntfy returned them, each with its id; none when undelivered."""
        return tuple(self.response.get("actions", ())) if self.response is not None else ()


@dataclass(frozen=True, slots=True)
class NtfyAdminCall:
    """One request to the admin API, in order, and how it ended."""

    route: str  # "PUT /v1/users/access"
    request: Any  # the JSON body, or None when it was not JSON
    status: int  # as answered; 0 when the connection was reset
    applied: bool  # whether its change took effect (also when a script then failed it)


class NtfyStandin(StandinServer[NtfyMessage]):
    """ntfy with an auth file, so with users, tokens and access control.

    `default_access` is ntfy's auth-default-access: "read-write" (its default, so topics
    are open), "deny-all", ... Set up what the CLI would (`add_user`, `issue_token`,
    `allow`, `new_admin_token`) or let pushgate use the admin API; inspect with `users()`,
    `grants()`, `tokens()`, `may()`, `admin_calls()` and `messages()`.

    `tap(message, label)` presses one of a delivered message's `http` action buttons.

    Scripts: `script(topic, ...)` for publishing, `script_admin(route, ...)` for an admin
    route, with `applied=True` when the change should happen but the answer fail.
    `strict=True` (the default) also refuses JSON fields ntfy does not know (in action
    buttons too), which real ntfy silently ignores, so typos in pushgate show up.
    """

    def __init__(
        self, *, strict: bool = True, default_access: str = "read-write", **options: Any
    ) -> None:
        super().__init__(**options)
        self.strict = strict
        self._users = NtfyUsers(parse_permission(default_access), now=self.now)
        self._scripts: dict[str, Script] = {}
        self._admin_scripts: dict[str, tuple[Script, bool]] = {}
        self._admin_calls: Recording[NtfyAdminCall] = Recording(100_000)
        self._state = threading.Lock()

    # -- accounts, as the ntfy CLI makes them ------------------------------------------------

    def add_user(self, username: str, password: str, *, role: str = ROLE_USER) -> None:
        """`ntfy user add` (which refuses "everyone" and "*"); role "user" or "admin"."""
        if username in _EVERYONE_NAMES:
            raise ValueError("ntfy user add refuses this username")
        self._users.add_user(username, password, role)

    def add_tier(self, code: str) -> None:
        """`ntfy tier add`: a tier `PUT`/`POST /v1/users` may name."""
        self._users.add_tier(code)

    def issue_token(self, username: str, *, label: str = "", expires: int = 0) -> str:
        """`ntfy token add`: a token for an existing user; `expires` in unix seconds, 0 never."""
        if username in _EVERYONE_NAMES:
            raise ValueError("ntfy token add refuses this username")
        return self._users.create_token(username, label, expires).value

    def new_admin_token(self, username: str = "admin") -> str:
        """A token of an admin user (created, with a random password, if missing)."""
        roles = {user.username: user.role for user in self.users()}
        if username not in roles:
            self.add_user(username, secrets.token_urlsafe(16), role=ROLE_ADMIN)
        elif roles[username] != ROLE_ADMIN:
            raise ValueError(f"{username} is not an admin")
        return self.issue_token(username, label="stand-in admin")

    def allow(self, username: str, topic: str, permission: str) -> None:
        """`ntfy access USER TOPIC PERMISSION`; "everyone" or "*" for anonymous users."""
        name = EVERYONE if username in _EVERYONE_NAMES else username
        self._users.allow_access(name, topic, parse_permission(permission))

    def set_up_for_pushgate(self) -> tuple[str, str]:
        """What docs/managed-ntfy.md has an operator do for managed channels: an admin with a
        token, and a publisher with `write-only` on `pg_*` and a token. Returns (admin token,
        publisher token); use with `default_access="deny-all"`."""
        admin = self.new_admin_token(PUSHGATE_ADMIN)
        self.add_user(PUSHGATE_PUBLISHER, secrets.token_urlsafe(16))
        self.allow(PUSHGATE_PUBLISHER, "pg_*", "write-only")
        return admin, self.issue_token(PUSHGATE_PUBLISHER)

    def new_token(self) -> str:
        """A token of a new user without grants (`tk_` + 29 characters, as ntfy's)."""
        username = f"standin-{secrets.token_hex(4)}"
        self.add_user(username, secrets.token_urlsafe(16))
        return self.issue_token(username)

    def protect_topic(self, topic: str, token: str | None = None) -> str:
        """Refuse `topic` to anonymous users; returns a token (new unless given) whose user
        may read and write it."""
        token = token or self.new_token()
        self.allow(EVERYONE, topic, "deny-all")
        self.allow(self._users.authenticate_token(token).username, topic, "read-write")
        return token

    # -- what there is -----------------------------------------------------------------------

    def users(self) -> tuple[NtfyUser, ...]:
        """The accounts (admins, then users); the built-in everyone user is left out."""
        return tuple(user for user in self._users.users() if user.username != EVERYONE)

    def grants(self, username: str) -> tuple[NtfyGrant, ...]:
        """A user's access entries ("everyone" or "*": those of anonymous users)."""
        return self._users.grants(EVERYONE if username in _EVERYONE_NAMES else username)

    def tokens(self, username: str) -> tuple[NtfyToken, ...]:
        return self._users.tokens(username)

    def may(self, username: str | None, topic: str, action: Literal["read", "write"]) -> bool:
        """Whether ntfy would let this user (None: anonymous) read or write the topic."""
        wanted = Permission.READ if action == "read" else Permission.WRITE
        return self._users.authorize(username, topic, wanted)

    def messages(self, topic: str) -> tuple[NtfyMessage, ...]:
        return tuple(record for record in self.delivered() if record.topic == topic)

    def attempts(self, topic: str) -> int:
        return sum(1 for record in self.received() if record.topic == topic)

    def admin_calls(self) -> tuple[NtfyAdminCall, ...]:
        return self._admin_calls.items()

    def tap(
        self, message: NtfyMessage, label: str, *, client: httpx.Client | None = None
    ) -> httpx.Response:
        """Tap the action button `label` of a delivered message as the ntfy Android app does
        for an `http` action (see `send_http_action`), through `client` if given."""
        for action in message.actions:
            if action["label"] == label:
                return send_http_action(action, client)
        labels = [action["label"] for action in message.actions]
        raise LookupError(f"no action button {label!r}; the message has {labels}")

    def clear(self) -> None:
        super().clear()
        self._admin_calls.clear()

    # -- scripts -----------------------------------------------------------------------------

    def script(self, topic: str, behaviour: Behaviour) -> None:
        """What to answer a publish to a topic: "ok", "reset", 429, 500, ... or a Script."""
        script = as_script(behaviour, OUTCOMES)
        with self._state:
            self._scripts[topic] = script

    def script_admin(self, route: str, behaviour: Behaviour, *, applied: bool = False) -> None:
        """What to answer an admin request that passed ntfy's admin check, e.g.
        `script_admin("PUT /v1/users/access", fail_first(1, 500))`.

        A failure is answered instead of doing the change, or with `applied=True` after
        doing it (the change happened but the answer was lost)."""
        if route not in ADMIN_ROUTES:
            raise ValueError(f"unknown admin route {route!r}; use one of {sorted(ADMIN_ROUTES)}")
        script = as_script(behaviour, ADMIN_OUTCOMES)
        with self._state:
            self._admin_scripts[route] = (script, applied)

    # -- serving -----------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        # maybeAuthenticate runs before routing: bad credentials are a 401 on any path.
        caller = authenticate(self._users, request)
        route = f"{request.method} {request.path}"
        if route in ADMIN_ROUTES:
            return self._admin(request, route, caller)
        if request.method in ("POST", "PUT") and request.path == "/":
            return self._publish_json(request, caller)
        if request.method in ("POST", "PUT") and _TOPIC_PATH.match(request.path):
            return self._publish_to_path(request, caller)
        if request.method == "GET" and _JSON_PATH.match(request.path):
            return self._poll(request, caller)
        raise refusal(NOT_FOUND)

    def _authorize(self, caller: Caller, topic: str, wanted: Permission) -> None:
        """authorizeTopic: 403 when the caller (anonymous too) may not; never 401."""
        if not self._users.authorize(caller.username, topic, wanted):
            who = caller.username or "anonymous"
            raise refusal(FORBIDDEN, f"{who} may not {wanted.name.lower()} {topic}")

    def _publish_json(self, request: Request, caller: Caller) -> Reply:
        # ntfy's order: who is asking (401), is it a message (400), may they publish (403).
        document = decode(request.body, FIELDS, limit=JSON_BODY_LIMIT, strict=self.strict)
        actions_param = actions_header(document.get("actions"), strict=self.strict)
        topic = document.get("topic")
        if not isinstance(topic, str) or not _TOPIC.match(topic):
            raise refusal(TOPIC_INVALID, "topic must match ^[-_A-Za-z0-9]{1,64}$")
        self._authorize(caller, topic, Permission.WRITE)
        actions = _check_values(document, actions_param, strict=self.strict)
        return self._answer(request, document, actions, caller)

    def _publish_to_path(self, request: Request, caller: Caller) -> Reply:
        topic = request.path[1:]
        self._authorize(caller, topic, Permission.WRITE)
        document = _document_from_params(request, topic)
        actions_param = read_param(request, "x-actions", "actions", "action")
        actions = _check_values(document, actions_param, strict=self.strict)
        if actions:  # as the equivalent JSON, without the ids ntfy gave them
            document["actions"] = [_without_id(action) for action in actions]
        # handlePublishBody: a body over the limit or not UTF-8 is a file, and the stand-in
        # (like ntfy without attachment-cache-dir) takes none. A body wins over ?message=.
        try:
            body = request.body.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise refusal(ATTACHMENTS_DISALLOWED, "a body that is not UTF-8 is a file") from None
        if len(request.body) > MESSAGE_LIMIT:
            raise refusal(ATTACHMENTS_DISALLOWED, "a body over the message limit is a file")
        if body:
            document["message"] = body
        return self._answer(request, document, actions, caller)

    def _poll(self, request: Request, caller: Caller) -> Reply:
        topics = [topic for topic in request.path[1 : -len("/json")].split(",") if topic]
        for topic in topics:
            self._authorize(caller, topic, Permission.READ)
        now = self.now()
        poll = read_bool_param(request, False, "x-poll", "poll", "po")
        since = parse_since(request, poll=poll, now=now)
        filters = parse_filters(request)
        if not poll:
            raise NotImplementedError("the ntfy stand-in answers polls only (?poll=1)")
        cached = [
            record.response
            for record in self.delivered()
            if record.cached and record.response is not None and record.response["expires"] >= now
        ]
        lines = select(cached, topics, since, filters)
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        return Response(200, body.encode(), _NDJSON)

    def _admin(self, request: Request, route: str, caller: Caller) -> Reply:
        if caller.user is None or caller.user.role != ROLE_ADMIN:  # ensureAdmin
            self._log_admin(request, route, 401, applied=False)
            raise refusal(UNAUTHORIZED, f"{route} needs an admin")
        with self._state:
            scripted = self._admin_scripts.get(route)
        script, apply_first = scripted if scripted is not None else (None, False)
        step = script.next_step() if script is not None else None
        failure = step if step is not None and not step.succeeds else None
        if failure is not None and not apply_first:
            return self._admin_failure(request, route, failure, applied=False)
        try:
            payload = ADMIN_ROUTES[route](self._users, request.body, self.strict)
        except Refusal as refused:
            self._log_admin(request, route, refused.response.status, applied=False)
            raise
        if failure is not None:
            return self._admin_failure(request, route, failure, applied=True)
        self._log_admin(request, route, 200, applied=True)
        return Response.json(200, payload, _CORS)

    def _admin_failure(self, request: Request, route: str, step: Step, *, applied: bool) -> Reply:
        outcome = step.outcome
        self._log_admin(request, route, 0 if outcome == RESET else int(outcome), applied=applied)
        return RESET_REPLY if outcome == RESET else _scripted_error(step)

    def _log_admin(self, request: Request, route: str, status: int, *, applied: bool) -> None:
        try:
            body = json.loads(request.body) if request.body else None
        except (ValueError, UnicodeDecodeError):
            body = None
        self._admin_calls.append(NtfyAdminCall(route, body, status, applied))

    def _answer(
        self,
        request: Request,
        document: dict[str, Any],
        actions: list[dict[str, Any]],
        caller: Caller,
    ) -> Reply:
        topic = document["topic"]
        with self._state:
            script = self._scripts.get(topic)
        step = script.next_step() if script is not None else None
        outcome = step.outcome if step is not None else OK
        now = int(self.now())
        cached = _cached(document)
        response = _message_json(document, actions, now, cached=cached) if outcome == OK else None
        self._record(
            NtfyMessage(
                topic=topic,
                request=document,
                response=response,
                status=200 if outcome == OK else 0 if outcome == RESET else int(outcome),
                token=caller.token,
                http_version=request.http_version,
                received_at=self.now(),
                user=caller.username,
                cached=cached,
            )
        )
        if outcome == RESET:
            return RESET_REPLY
        if response is not None:
            return Response.json(200, response, _CORS)
        assert step is not None  # only a script fails a publish
        return _scripted_error(step)


def _scripted_error(step: Step) -> Response:
    retry_after = step.retry_after
    if step.outcome == 429 and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER
    extra = (("retry-after", str(retry_after)),) if retry_after is not None else ()
    return error_response(SCRIPTED[int(step.outcome)], extra)


def _document_from_params(request: Request, topic: str) -> dict[str, Any]:
    """parsePublishParams for the parameters the stand-in knows, as the equivalent JSON
    (others are ignored)."""
    try:
        priority = parse_priority(read_param(request, "x-priority", "priority", "prio", "p"))
    except ValueError:
        priority = -1  # refused by _check_values, after the checks ntfy makes first
    tags = [t.strip() for t in read_param(request, "x-tags", "tags", "tag", "ta").split(",")]
    markdown = read_bool_param(request, False, "x-markdown", "markdown", "md")
    content_type = read_param(request, "content-type", "content_type").lower()
    fields: dict[str, Any] = {
        "topic": topic,
        "message": read_param(request, "x-message", "message", "m").replace("\\n", "\n"),
        "title": read_param(request, "x-title", "title", "t"),
        "priority": priority,
        "tags": [tag for tag in tags if tag],
        "click": read_param(request, "x-click", "click"),
        "icon": read_param(request, "x-icon", "icon"),
        "attach": read_param(request, "x-attach", "attach", "a"),
        "filename": read_param(request, "x-filename", "filename", "file", "f"),
        "email": read_param(request, "x-email", "x-e-mail", "email", "e-mail", "mail", "e"),
        "markdown": markdown or content_type == "text/markdown",
        "cache": read_param(request, "x-cache", "cache"),
    }
    return {name: value for name, value in fields.items() if value}


def _cached(document: Mapping[str, Any]) -> bool:
    """readBoolParam(r, true, "x-cache", "cache"): anything but 1/yes/true turns it off."""
    value = str(document.get("cache") or "").strip().lower()
    return value == "" or value in ("1", "yes", "true")


def _check_values(
    document: Mapping[str, Any], actions_param: str, *, strict: bool
) -> list[dict[str, Any]]:
    """What ntfy's publish handler refuses once the request has parsed, in the order of its
    parsePublishParams; returns the actions as ntfy stores them."""
    attach = document.get("attach")
    if attach and not _URL.match(attach):
        raise refusal(ATTACHMENT_URL_INVALID)
    icon = document.get("icon")
    if icon and not _URL.match(icon):
        raise refusal(ICON_URL_INVALID)
    if document.get("email"):
        raise refusal(EMAIL_DISABLED)
    priority = document.get("priority")
    if priority is not None and not 0 <= priority <= 5:  # 0 is "not set", i.e. default (3)
        raise refusal(PRIORITY_INVALID)
    actions = parse_actions(actions_param, strict=strict) if actions_param else []
    # handlePublishBody: a message over the limit, or a filename without a URL, makes the
    # body a file, and the stand-in (like ntfy without attachment-cache-dir) takes none.
    too_long = len((document.get("message") or "").encode()) > MESSAGE_LIMIT
    if too_long or (document.get("filename") and not attach):
        raise refusal(ATTACHMENTS_DISALLOWED, "the message would be an attachment")
    return actions


def _without_id(action: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in action.items() if name != "id"}


def _message_json(
    document: Mapping[str, Any], actions: list[dict[str, Any]], now: int, *, cached: bool
) -> dict[str, Any]:
    """ntfy's message JSON for a publish: empty fields are left out, as Go's omitempty does;
    the message is trimmed, and "triggered" when empty (handleBodyAsTextMessage)."""
    message: dict[str, Any] = {
        "id": random_string(MESSAGE_ID_LENGTH),
        "time": now,
    }
    if cached:  # an uncached message has no expiry, and omitempty leaves it out
        message["expires"] = now + CACHE_DURATION
    message |= {"event": "message", "topic": document["topic"]}
    optional = {
        "title": document.get("title"),
        "message": (document.get("message") or "").strip() or "triggered",
        "priority": document.get("priority"),
        "tags": document.get("tags"),
        "click": document.get("click"),
        "icon": document.get("icon"),
        "actions": actions,
    }
    message.update({name: value for name, value in optional.items() if value})
    if document.get("markdown"):
        message["content_type"] = "text/markdown"
    return message
