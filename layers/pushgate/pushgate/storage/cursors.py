"""Opaque page cursors: what the list routes hand out as `next_cursor` and take back.

A cursor is base64url (unpadded) of `{"<kind>": "<key>"}`: the key of the last item of the
page, named by what it keys (`d` a device id, `a` an app id, `i` an instance name). It only
says where to resume inside the listing it came from: the partition is always the caller's
to choose (the app in the path), and a key is checked against its pattern on the way back,
so no cursor can point anywhere a caller could not ask for directly. Anything else is 400
`invalid_cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from pushgate.errors import BadRequestError

_MESSAGE = "cursor is not one this API returned"


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({kind: key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, pattern: re.Pattern[str]) -> str:
    """The key a cursor of `kind` names; 400 `invalid_cursor` for anything else."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = value[kind]
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise BadRequestError(_MESSAGE, code="invalid_cursor") from None
    if not isinstance(key, str) or not pattern.match(key):
        raise BadRequestError(_MESSAGE, code="invalid_cursor")
    return key
