"""ntfy's request parameters (server/util.go): a header, else the query string."""

from __future__ import annotations

from urllib.parse import parse_qs

from tests.standins._server import Request

_PRIORITIES = {"1": 1, "min": 1, "2": 2, "low": 2, "3": 3, "default": 3, "4": 4, "high": 4}
_PRIORITIES |= {"5": 5, "max": 5, "urgent": 5}


def parse_priority(text: str) -> int:
    """util.ParsePriority: "" is 0 (not set); ValueError for anything it does not know."""
    text = text.strip().lower()
    if text == "":
        return 0
    try:
        return _PRIORITIES[text]
    except KeyError:
        raise ValueError(f"invalid priority {text!r}") from None


def query_param(request: Request, *names: str) -> str:
    """readQueryParam: the first value of the first of these names that has a non-empty one.
    ntfy looks names up in lower case only."""
    values = parse_qs(request.query, keep_blank_values=True)
    for name in names:
        for value in values.get(name.lower(), ())[:1]:
            if value.strip():
                return value.strip()
    return ""


def read_param(request: Request, *names: str) -> str:
    """readParam: a header of one of these names (any case), else the query parameter.
    (ntfy also decodes RFC 2047 encoded headers; the stand-in does not.)"""
    for name in names:
        value = (request.header(name) or "").strip()
        if value:
            return value
    return query_param(request, *names)


def read_bool_param(request: Request, default: bool, *names: str) -> bool:
    """readBoolParam: "1", "yes" and "true" (any case) are true, any other value false."""
    value = read_param(request, *names).lower()
    if value == "":
        return default
    return value in ("1", "yes", "true")
