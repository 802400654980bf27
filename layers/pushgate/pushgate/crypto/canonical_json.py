"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes a gateway client signs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from json.encoder import encode_basestring  # the C encoder: RFC 8785 §3.2.2.2 escaping

from pushgate.crypto.exceptions import CanonicalJSONError

# RFC 8785 §3.2.2.3: numbers are IEEE 754 doubles; integers beyond 2**53 are not exact.
MAX_SAFE_INTEGER = 2**53
# ECMAScript Number::toString switches to exponent notation outside 1e-7 <= |x| < 1e21.
_EXPONENT_AT_OR_ABOVE = 21
_EXPONENT_AT_OR_BELOW = -6


def canonicalize(value: object) -> bytes:
    """Serialise a JSON value the RFC 8785 way: sorted keys, no whitespace, UTF-8.

    Accepts dict (string keys), list, tuple, str, int, float, bool and None. Raises
    `CanonicalJSONError` for NaN, ±Infinity, non-string keys, lone surrogates, other types.
    """
    parts: list[str] = []
    try:
        _write(value, parts)
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("strings must be valid Unicode (lone surrogate)") from None
    except RecursionError:
        raise CanonicalJSONError("value is nested too deeply") from None


def serialize_number(number: float) -> str:
    """A double the way ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(number):
        raise CanonicalJSONError("NaN and Infinity have no JSON form")
    if number == 0:
        return "0"  # also -0
    sign = "-" if number < 0 else ""
    # repr() gives the shortest digits that round-trip, which is what ECMAScript asks for.
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # value = 0.digits * 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    count = len(digits)
    if count <= point <= _EXPONENT_AT_OR_ABOVE:
        return sign + digits + "0" * (point - count)
    if 0 < point <= _EXPONENT_AT_OR_ABOVE:
        return sign + digits[:point] + "." + digits[point:]
    if _EXPONENT_AT_OR_BELOW < point <= 0:
        return sign + "0." + "0" * -point + digits
    power = point - 1
    exponent_text = ("e+" if power >= 0 else "e-") + str(abs(power))
    if count == 1:
        return sign + digits + exponent_text
    return sign + digits[0] + "." + digits[1:] + exponent_text


def _write(value: object, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(encode_basestring(value))
    elif isinstance(value, int):
        parts.append(_serialize_integer(value))
    elif isinstance(value, float):
        parts.append(serialize_number(value))
    elif isinstance(value, Mapping):
        _write_object(value, parts)
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise CanonicalJSONError(f"{type(value).__name__} has no JSON form")


def _write_object(value: Mapping[object, object], parts: list[str]) -> None:
    for key in value:
        if not isinstance(key, str):
            raise CanonicalJSONError("object keys must be strings")
    parts.append("{")
    # RFC 8785 §3.2.3: sort by UTF-16 code units; big-endian UTF-16 bytes sort the same way.
    for index, key in enumerate(sorted(value, key=_utf16_units)):  # type: ignore[arg-type]
        if index:
            parts.append(",")
        parts.append(encode_basestring(key))
        parts.append(":")
        _write(value[key], parts)
    parts.append("}")


def _utf16_units(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _serialize_integer(value: int) -> str:
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value)
    try:
        return serialize_number(float(value))  # the double a JSON parser would hold
    except OverflowError:
        raise CanonicalJSONError("integer is outside the range of a double") from None
