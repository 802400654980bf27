"""ntfy's readJSONWithLimit: a request body decoded into a Go struct, as encoding/json does."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from tests.standins._ntfy_errors import JSON_INVALID, JSON_TOO_LARGE, refusal

JSON_BODY_LIMIT = 32768  # server.go jsonBodyBytesLimit, for the admin and account APIs
Check = Callable[[Any], bool]


def is_string(value: Any) -> bool:
    return isinstance(value, str)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_list(value: Any) -> bool:
    return isinstance(value, list)


def is_string_map(value: Any) -> bool:
    """A map[string]string: an object of strings (null values decode to "")."""
    return isinstance(value, dict) and all(
        item is None or isinstance(item, str) for item in value.values()
    )


def refuse_constant(name: str) -> Any:
    """For json's parse_constant: NaN and Infinity are not JSON to Go."""
    raise ValueError(f"{name} is not JSON")


def decode(
    body: bytes,
    fields: Mapping[str, Check],
    *,
    limit: int = JSON_BODY_LIMIT,
    strict: bool = True,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """The struct's fields that the body sets, as `decode_object` reads them.

    As Go's decoder, only the first JSON value is read (trailing bytes are ignored), and a
    value of the wrong type fails the whole body (40024). A body over `limit` is 41303.
    """
    if len(body) > limit:
        raise refusal(JSON_TOO_LARGE)
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text and allow_empty:
        return {}
    try:
        document, _ = json.JSONDecoder(parse_constant=refuse_constant).raw_decode(text)
    except ValueError:
        raise refusal(JSON_INVALID) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise refusal(JSON_INVALID, "body is not a JSON object")
    try:
        return decode_object(document, fields, strict=strict)
    except ValueError as error:
        raise refusal(JSON_INVALID, str(error)) from None


def decode_object(
    document: Mapping[str, Any], fields: Mapping[str, Check], *, strict: bool
) -> dict[str, Any]:
    """A JSON object's fields that it sets, by their struct names, as Go's decoder fills a
    struct: keys match field names ignoring case, null leaves a field as it was (unset: left
    out here), and a value of the wrong type is a ValueError. `strict` also refuses keys the
    struct lacks, which Go silently ignores, so typos show up.
    """
    by_folded_name = {name.lower(): name for name in fields}
    decoded: dict[str, Any] = {}
    for key, value in document.items():
        name = key if key in fields else by_folded_name.get(key.lower())
        if name is None:
            if strict:
                raise ValueError(f"unknown field {key!r} (ntfy ignores it)")
            continue
        if value is None:  # Go leaves the field as it was
            continue
        if not fields[name](value):
            raise ValueError(f"{key} has the wrong type")
        decoded[name] = value
    return decoded
