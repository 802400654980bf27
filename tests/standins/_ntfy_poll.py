"""ntfy's poll, `GET /<topics>/json?poll=1` (server.go handleSubscribeHTTP, sendOldMessages):
the cached messages of the topics since a marker, through the query filters, oldest first."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.standins._ntfy_errors import PRIORITY_INVALID, SINCE_INVALID, refusal
from tests.standins._ntfy_ids import is_message_id
from tests.standins._ntfy_params import parse_priority, read_param
from tests.standins._server import Request

Message = Mapping[str, Any]  # ntfy's message JSON, as the publish answered it
# Go's time.ParseDuration
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
}


@dataclass(frozen=True, slots=True)
class Since:
    """ntfy's sinceMarker: from a time, after a message id, only the latest, or none."""

    time: float = 0
    message_id: str | None = None
    latest: bool = False
    none: bool = False


_SINCE_WORDS = {"all": Since(), "latest": Since(latest=True), "none": Since(none=True)}


@dataclass(frozen=True, slots=True)
class Filters:
    """ntfy's queryFilter."""

    message_id: str = ""
    message: str = ""
    title: str = ""
    tags: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()

    def allow(self, message: Message) -> bool:
        if self.message_id and message.get("id") != self.message_id:
            return False
        if self.message and message.get("message") != self.message:
            return False
        if self.title and message.get("title", "") != self.title:
            return False
        priority = message.get("priority") or 3  # "not set" counts as the default, 3
        if self.priorities and priority not in self.priorities:
            return False
        return set(self.tags) <= set(message.get("tags") or ())


def parse_since(request: Request, *, poll: bool, now: float) -> Since:
    """parseSince: empty means all messages when polling; 40008 when unparseable."""
    since = read_param(request, "x-since", "since", "si") or ("all" if poll else "none")
    if since in _SINCE_WORDS:
        return _SINCE_WORDS[since]
    if is_message_id(since):
        return Since(message_id=since)
    if re.fullmatch(r"[-+]?[0-9]+", since):
        return Since(time=int(since))
    try:
        return Since(time=int(now - _parse_duration(since)))
    except ValueError:
        raise refusal(SINCE_INVALID) from None


def parse_filters(request: Request) -> Filters:
    """parseQueryFilters: 40007 for a priority it does not know."""
    try:
        priorities = tuple(
            parse_priority(p)
            for p in read_param(request, "x-priority", "priority", "prio", "p").split(",")
            if p
        )
    except ValueError:
        raise refusal(PRIORITY_INVALID) from None
    return Filters(
        message_id=read_param(request, "x-id", "id"),
        message=read_param(request, "x-message", "message", "m"),
        title=read_param(request, "x-title", "title", "t"),
        tags=tuple(t for t in read_param(request, "x-tags", "tags", "tag", "ta").split(",") if t),
        priorities=priorities,
    )


def select(
    cached: Sequence[Message], topics: Sequence[str], since: Since, filters: Filters
) -> list[Message]:
    """What a poll answers: per topic, the messages since the marker (an unknown id means
    all of them), then all of them by time, through the filters."""
    if since.none:
        return []
    selected: list[Message] = []
    position = {message["id"]: index for index, message in enumerate(cached)}
    for topic in topics:
        of_topic = [(i, m) for i, m in enumerate(cached) if m["topic"] == topic]
        if since.latest:
            of_topic = of_topic[-1:]
        elif since.message_id is not None and since.message_id in position:
            after = position[since.message_id]
            of_topic = [(i, m) for i, m in of_topic if i > after]
        elif since.message_id is None:
            of_topic = [(i, m) for i, m in of_topic if m["time"] >= since.time]
        selected.extend(m for _, m in of_topic)
    selected.sort(key=lambda message: message["time"])
    return [message for message in selected if filters.allow(message)]


def _parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds: "90s", "1h30m", "1.5h"; ValueError otherwise."""
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    parts = _DURATION_PART.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    if any(number in ("", ".") for number, _ in parts):
        raise ValueError(f"invalid duration {text!r}")
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return -seconds if text.startswith("-") else seconds
