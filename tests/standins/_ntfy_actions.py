"""ntfy's action buttons (server/actions.go parseActions): the `X-Actions` parameter, as a
JSON array or in the simple format, checked as ntfy checks it and turned into the actions as
ntfy stores and returns them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.standins._ntfy_errors import ACTIONS_INVALID, JSON_INVALID, refusal, wrap
from tests.standins._ntfy_ids import ACTION_ID_LENGTH, random_string
from tests.standins._ntfy_json import (
    decode_object,
    is_boolean,
    is_string,
    is_string_map,
    refuse_constant,
)

ACTIONS_MAX = 3
VIEW, BROADCAST, HTTP = "view", "broadcast", "http"
_ACTIONS_WITH_URL = (VIEW, HTTP)
_METHODS_WITHOUT_BODY = ("GET", "HEAD")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# actionsKeyRegex `^([-.\w]+)\s*=\s*`, with Go's ASCII \w and \s.
_KEY = re.compile(r"([-.0-9A-Za-z_]+)[\t\n\f\r ]*=[\t\n\f\r ]*")
_SPACES = (" ", "\t", "\r", "\n")
_EOF = ""
_SECTION_ENDS = (_EOF, ";", ",")
_LAST_SECTION_ENDS = (_EOF, ";")
_GO_KINDS = {str: "string", bool: "bool", int: "number", float: "number", list: "array"}

# types.go action: Go's decoder refuses a wrong type and ignores unknown keys.
FIELDS = {
    "id": is_string,
    "action": is_string,
    "label": is_string,
    "clear": is_boolean,
    "url": is_string,
    "method": is_string,
    "headers": is_string_map,
    "body": is_string,
    "intent": is_string,
    "extras": is_string_map,
}


@dataclass(slots=True)
class _Action:
    """types.go action, its zero value as newAction makes it."""

    id: str = ""
    action: str = ""
    label: str = ""
    clear: bool = False
    url: str = ""
    method: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    intent: str = ""
    extras: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """As Go marshals it: id, action, label and clear always, the rest only when set
        (omitempty), map keys sorted."""
        document: dict[str, Any] = {
            "id": self.id,
            "action": self.action,
            "label": self.label,
            "clear": self.clear,
        }
        optional = {
            "url": self.url,
            "method": self.method,
            "headers": dict(sorted(self.headers.items())),
            "body": self.body,
            "intent": self.intent,
            "extras": dict(sorted(self.extras.items())),
        }
        return document | {name: value for name, value in optional.items() if value}


def actions_header(value: list[Any] | None, *, strict: bool) -> str:
    """transformBodyJSON: a JSON publish's `actions`, decoded into []action (a wrong type is
    40024, as for any field) and handed on as the `X-Actions` header; "" when there are none."""
    try:
        actions = [_decode(item, strict=strict) for item in value or ()]
    except ValueError as error:
        raise refusal(JSON_INVALID, f"actions: {error}") from None
    if not actions:
        return ""
    return json.dumps([action.to_json() for action in actions], ensure_ascii=False)


def parse_actions(text: str, *, strict: bool) -> list[dict[str, Any]]:
    """parseActions: the actions as ntfy stores and returns them, each with a new id, its
    `action` lower-cased and `method` upper-cased (an unset method stays unset: the app
    defaults it to POST). Whatever ntfy refuses is 40018 with ntfy's reason appended."""
    text = text.strip()
    try:
        actions = _from_json(text, strict=strict) if text.startswith("[") else _parse_simple(text)
        for action in actions:
            action.id = random_string(ACTION_ID_LENGTH)
            action.action = action.action.lower()
            action.method = action.method.upper()
        _check(actions)
    except ValueError as error:
        raise refusal(wrap(ACTIONS_INVALID, str(error))) from None
    return [action.to_json() for action in actions]


def _check(actions: list[_Action]) -> None:
    """parseActions' checks, in its order and with its messages."""
    if len(actions) > ACTIONS_MAX:
        raise ValueError(f"only {ACTIONS_MAX} actions allowed")
    for action in actions:
        if action.action not in (VIEW, BROADCAST, HTTP):
            raise ValueError(
                f"parameter 'action' cannot be '{action.action}', "
                "valid values are 'view', 'broadcast' and 'http'"
            )
        if not action.label:
            raise ValueError("parameter 'label' is required")
        if action.action in _ACTIONS_WITH_URL and not action.url:
            raise ValueError(f"parameter 'url' is required for action '{action.action}'")
        if action.action == HTTP and action.method in _METHODS_WITHOUT_BODY and action.body:
            raise ValueError(f"parameter 'body' cannot be set if method is {action.method}")


def _from_json(text: str, *, strict: bool) -> list[_Action]:
    """parseActionsFromJSON: json.Unmarshal into []*action; errors are "JSON error: ..."
    (the detail is Python's wording, not Go's)."""
    try:
        items = json.loads(text, parse_constant=refuse_constant)
        return [_decode(item, strict=strict) for item in items]
    except ValueError as error:
        raise ValueError(f"JSON error: {error}") from None


def _decode(item: Any, *, strict: bool) -> _Action:
    """One element of a JSON actions array, as Go's decoder fills an action."""
    if item is None:
        # The zero action (into a *action ntfy gets nil, and panics dropping the connection).
        return _Action()
    if not isinstance(item, dict):
        kind = _GO_KINDS[type(item)]
        raise ValueError(f"json: cannot unmarshal {kind} into Go value of type server.action")
    fields = decode_object(item, FIELDS, strict=strict)
    for name in ("headers", "extras"):  # null values of a map[string]string decode to ""
        if name in fields:
            fields[name] = {key: value or "" for key, value in fields[name].items()}
    return _Action(**fields)


def _parse_simple(text: str) -> list[_Action]:
    """parseActionsFromSimple. (ntfy first refuses a string that is not UTF-8; a str here
    always is.)"""
    return _SimpleParser(text).parse()


class _SimpleParser:
    """actionParser: `action, label, url, key=value, ...; next action`, values optionally
    quoted with " or ' (a backslash escapes the quote). Positions in messages count bytes,
    as Go's do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> list[_Action]:
        actions: list[_Action] = []
        while not self._eof():
            actions.append(self._action())
        return actions

    def _action(self) -> _Action:
        """parseAction: sections up to ";" or the end."""
        action = _Action()
        section = 0
        while True:
            key, value, last = self._section()
            _populate(action, section, key, value)
            self._skip_spaces()
            if last:
                return action
            section += 1

    def _section(self) -> tuple[str, str, bool]:
        """parseSection: (key, value, whether it ended the action), up to "," or ";"."""
        self._skip_spaces()
        key = self._key()
        char = self._peek()
        if char in _SECTION_ENDS:
            self.pos += len(char)
            return key, "", char in _LAST_SECTION_ENDS
        if char in ('"', "'"):
            return key, *self._quoted_value(char)
        return key, *self._value()

    def _key(self) -> str:
        match = _KEY.match(self.text, self.pos)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group(1)

    def _value(self) -> tuple[str, bool]:
        start = self.pos
        while (char := self._peek()) not in _SECTION_ENDS:
            self.pos += len(char)
        value = self.text[start : self.pos].strip()
        self.pos += len(char)
        return value, char in _LAST_SECTION_ENDS

    def _quoted_value(self, quote: str) -> tuple[str, bool]:
        self.pos += 1
        start = self.pos
        previous = _EOF
        while True:
            char = self._peek()
            if char == _EOF:
                position = self._byte_offset(start)
                raise ValueError(f"unexpected end of input, quote started at position {position}")
            if char == quote and previous != "\\":
                value = self.text[start : self.pos].replace("\\" + quote, quote)
                self.pos += 1
                self._skip_spaces()
                char = self._peek()
                if char not in _SECTION_ENDS:
                    position = self._byte_offset(self.pos)
                    raise ValueError(f"unexpected character '{char}' at position {position}")
                self.pos += len(char)
                return value, char in _LAST_SECTION_ENDS
            previous = char
            self.pos += 1

    def _skip_spaces(self) -> None:
        while self._peek() in _SPACES:
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if not self._eof() else _EOF

    def _eof(self) -> bool:
        return self.pos >= len(self.text)

    def _byte_offset(self, pos: int) -> int:
        return len(self.text[:pos].encode())


def _populate(action: _Action, section: int, key: str, value: str) -> None:
    """populateAction: the first sections may leave out `action=`, `label=` and (for view
    and http, as spelled so far) `url=`; `headers.X=` and `extras.X=` fill the maps."""
    if not key and section < 2:
        key = ("action", "label")[section]
    elif not key and section == 2 and action.action in _ACTIONS_WITH_URL:
        key = "url"
    if not key:
        raise ValueError(f"term '{value}' unknown")
    if key.startswith("headers."):
        action.headers[key.removeprefix("headers.")] = value
    elif key.startswith("extras."):
        action.extras[key.removeprefix("extras.")] = value
    elif key.lower() == "clear":
        if value.lower() not in _BOOLEANS:
            raise ValueError(
                f"parameter 'clear' cannot be '{value}', "
                "only boolean values are allowed (true/yes/1/false/no/0)"
            )
        action.clear = _BOOLEANS[value.lower()]
    elif key.lower() in ("action", "label", "url", "method", "body", "intent"):
        setattr(action, key.lower(), value)
    else:
        raise ValueError(f"key '{key}' unknown")
