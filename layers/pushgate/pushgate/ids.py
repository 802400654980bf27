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
