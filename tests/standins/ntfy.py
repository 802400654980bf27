"""A stand-in for an ntfy server's JSON publishing API (`POST /` with a JSON message) that
checks what ntfy checks and answers with ntfy's message and error JSON."""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.standins._ntfy_errors import (
    ATTACHMENT_URL_INVALID,
    EMAIL_DISABLED,
    FORBIDDEN,
    ICON_URL_INVALID,
    JSON_INVALID,
    JSON_TOO_LARGE,
    NOT_FOUND,
    PRIORITY_INVALID,
    SCRIPTED,
    TOPIC_INVALID,
    UNAUTHORIZED,
    error_response,
    refusal,
)
from tests.standins._script import OK, RESET, Behaviour, Script, as_script
from tests.standins._server import RESET as RESET_REPLY
from tests.standins._server import Reply, Request, Response, StandinServer

# ntfy server/topic.go and server/server.go.
_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_URL = re.compile(r"^https?://.+")
MESSAGE_LIMIT = 4096
JSON_BODY_LIMIT = 2 * MESSAGE_LIMIT  # ntfy reads at most twice the message limit as JSON
CACHE_DURATION = 12 * 3600
MESSAGE_ID_LENGTH = 12
_ID_ALPHABET = string.ascii_letters + string.digits
OUTCOMES = frozenset({OK, RESET, 429, 500, 502, 503, 507})
DEFAULT_RETRY_AFTER = 1


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _object_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


# ntfy's publishMessage: Go's decoder refuses a wrong type (null is the zero value).
FIELDS: Mapping[str, Callable[[Any], bool]] = {
    "topic": _string,
    "message": _string,
    "title": _string,
    "tags": _string_list,
    "priority": _integer,
    "actions": _object_list,
    "click": _string,
    "attach": _string,
    "markdown": _boolean,
    "icon": _string,
    "filename": _string,
    "delay": _string,
    "email": _string,
    "call": _string,
}


@dataclass(frozen=True, slots=True)
class NtfyMessage:
    """One valid publish and what the stand-in answered."""

    topic: str
    request: Mapping[str, Any]  # the JSON as posted
    response: Mapping[str, Any] | None  # ntfy's message JSON when delivered
    status: int  # 200 delivered; a scripted status; 0 when the connection was reset
    token: str | None  # the bearer token it was published with
    http_version: str
    received_at: float

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


class NtfyStandin(StandinServer[NtfyMessage]):
    """ntfy's JSON publishing at `POST /` (and `PUT /`).

    Topics are open unless `protect_topic()` makes them require a bearer token. Outcomes are
    scripted per topic with `script()`. `strict=True` (the default) also refuses JSON fields
    ntfy does not know, which real ntfy silently ignores, so typos in pushgate show up.
    """

    def __init__(self, *, strict: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.strict = strict
        self._tokens: dict[str, set[str]] = {}  # token -> topics it may publish to
        self._protected: set[str] = set()
        self._scripts: dict[str, Script] = {}
        self._state = threading.Lock()

    def new_token(self) -> str:
        """A valid access token with no permissions yet (`tk_` + 29 characters, as ntfy's)."""
        token = "tk_" + "".join(
            secrets.choice(string.ascii_lowercase + string.digits) for _ in range(29)
        )
        with self._state:
            self._tokens[token] = set()
        return token

    def protect_topic(self, topic: str, token: str | None = None) -> str:
        """Refuse anonymous publishing to `topic`; returns a token (new unless given) that may
        publish to it."""
        token = token or self.new_token()
        with self._state:
            self._protected.add(topic)
            self._tokens.setdefault(token, set()).add(topic)
        return token

    def script(self, topic: str, behaviour: Behaviour) -> None:
        """What to answer for a topic: "ok", "reset", 429, 500, ... or a Script."""
        script = as_script(behaviour, OUTCOMES)
        with self._state:
            self._scripts[topic] = script

    def messages(self, topic: str) -> tuple[NtfyMessage, ...]:
        return tuple(record for record in self.delivered() if record.topic == topic)

    def attempts(self, topic: str) -> int:
        return sum(1 for record in self.received() if record.topic == topic)

    async def handle(self, request: Request) -> Reply:
        # ntfy's order: who is asking (401), is it a message (400), may they publish (403).
        if request.method not in ("POST", "PUT") or request.path != "/":
            raise refusal(NOT_FOUND)
        token = self._authenticate(request)
        document = self._parse(request.body)
        topic = document["topic"]
        with self._state:
            allowed = topic not in self._protected or (
                token is not None and topic in self._tokens.get(token, set())
            )
        if not allowed:
            raise refusal(FORBIDDEN, f"{topic} needs a token allowed to publish to it")
        _check_values(document)
        return self._answer(request, document, token)

    def _authenticate(self, request: Request) -> str | None:
        """The bearer token, or None when anonymous; bad credentials are refused (401)."""
        header = request.header("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        with self._state:
            known = token in self._tokens
        if scheme.lower() != "bearer" or not known:
            raise refusal(UNAUTHORIZED, "unknown token or not a bearer token")
        return token

    def _parse(self, body: bytes) -> dict[str, Any]:
        if len(body) > JSON_BODY_LIMIT:
            raise refusal(JSON_TOO_LARGE)
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise refusal(JSON_INVALID) from None
        if not isinstance(document, dict):
            raise refusal(JSON_INVALID, "body is not a JSON object")
        for name, value in document.items():
            check = FIELDS.get(name)
            if check is None:
                if self.strict:
                    raise refusal(JSON_INVALID, f"unknown field {name!r} (ntfy ignores it)")
                continue
            if value is not None and not check(value):
                raise refusal(JSON_INVALID, f"{name} has the wrong type")
        topic = document.get("topic")
        if not isinstance(topic, str) or not _TOPIC.match(topic):
            raise refusal(TOPIC_INVALID, "topic must match ^[-_A-Za-z0-9]{1,64}$")
        return document

    def _answer(self, request: Request, document: dict[str, Any], token: str | None) -> Reply:
        topic = document["topic"]
        with self._state:
            script = self._scripts.get(topic)
        step = script.next_step() if script is not None else None
        outcome = step.outcome if step is not None else OK
        now = int(self.now())
        response = _message_json(document, now) if outcome == OK else None
        self._record(
            NtfyMessage(
                topic=topic,
                request=document,
                response=response,
                status=200 if outcome == OK else 0 if outcome == RESET else int(outcome),
                token=token,
                http_version=request.http_version,
                received_at=self.now(),
            )
        )
        if outcome == RESET:
            return RESET_REPLY
        if response is not None:
            return Response.json(200, response, (("access-control-allow-origin", "*"),))
        retry_after = step.retry_after if step is not None else None
        if outcome == 429 and retry_after is None:
            retry_after = DEFAULT_RETRY_AFTER
        extra = (("retry-after", str(retry_after)),) if retry_after is not None else ()
        return error_response(SCRIPTED[int(outcome)], extra)


def _check_values(document: Mapping[str, Any]) -> None:
    """What ntfy's publish handler refuses once the JSON has decoded."""
    priority = document.get("priority")
    if priority is not None and not 0 <= priority <= 5:  # 0 is "not set", i.e. default (3)
        raise refusal(PRIORITY_INVALID)
    if document.get("email"):
        raise refusal(EMAIL_DISABLED)
    attach = document.get("attach")
    if attach and not _URL.match(attach):
        raise refusal(ATTACHMENT_URL_INVALID)
    icon = document.get("icon")
    if icon and not _URL.match(icon):
        raise refusal(ICON_URL_INVALID)


def _message_json(document: Mapping[str, Any], now: int) -> dict[str, Any]:
    """ntfy's message JSON for a publish: empty fields are left out, as Go's omitempty does."""
    message: dict[str, Any] = {
        "id": "".join(secrets.choice(_ID_ALPHABET) for _ in range(MESSAGE_ID_LENGTH)),
        "time": now,
        "expires": now + CACHE_DURATION,
        "event": "message",
        "topic": document["topic"],
    }
    optional = {
        "title": document.get("title"),
        "message": document.get("message") or "triggered",
        "priority": document.get("priority"),
        "tags": document.get("tags"),
        "click": document.get("click"),
        "icon": document.get("icon"),
        "actions": document.get("actions"),
    }
    message.update({name: value for name, value in optional.items() if value})
    if document.get("markdown"):
        message["content_type"] = "text/markdown"
    return message
