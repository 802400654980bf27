"""The one ID scheme: a type prefix and a sortable, unguessable 26-character ULID body."""

from __future__ import annotations

import os

from pushgate import clock

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`: 48 bits of milliseconds then 80 random bits, lower-case Crockford."""
    millis = int(clock.epoch() * 1000) & ((1 << 48) - 1)
    randomness = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_base32(millis, 10)}{_base32(randomness, 16)}"


GROUP_INDEX_CHARS = 2
MAX_GROUP_SIZE = 32**GROUP_INDEX_CHARS


def new_group(prefix: str, count: int) -> list[str]:
    """`count` ids minted together: one new id whose last two characters number the members.

    They share the time and 70 of the 80 random bits, so one record keyed by `group_key` can
    stand for all of them (a send request's notifications); each is still a well-formed,
    unguessable id of the usual shape."""
    if not 0 < count <= MAX_GROUP_SIZE:
        raise ValueError(f"a group holds 1 to {MAX_GROUP_SIZE} ids, not {count}")
    stem = new_id(prefix)[:-GROUP_INDEX_CHARS]
    return [stem + _base32(index, GROUP_INDEX_CHARS) for index in range(count)]


def group_key(member_id: str) -> tuple[str, int]:
    """(the group's key, the member's index) of an id from `new_group`. The key is shorter
    than any id, so it never names an id's own record."""
    stem, suffix = member_id[:-GROUP_INDEX_CHARS], member_id[-GROUP_INDEX_CHARS:]
    index = 0
    for char in suffix:
        position = _CROCKFORD.find(char)
        if position < 0:
            raise ValueError(f"{member_id!r} is not a grouped id")
        index = index * 32 + position
    return stem, index
