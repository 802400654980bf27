"""RFC 8785 canonical JSON: the RFC's own examples, refusals, and stability properties."""

from __future__ import annotations

import json
import math
import struct
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pushgate.crypto import CanonicalJSONError, canonicalize
from pushgate.crypto.canonical_json import serialize_number

# RFC 8785 §3.2.2 input, verbatim, and §3.2.3 output.
RFC8785_SAMPLE = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC8785_SAMPLE_CANONICAL = (
    r'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    r'"string":"€$\u000f\nA'
    "'"
    r'B\"\\\\\"/"}'
)
# RFC 8785 §3.2.3 sorting example.
RFC8785_SORTING_SAMPLE = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
RFC8785_SORTED_VALUES = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
]
# RFC 8785 Appendix B: IEEE 754 bits and their ECMAScript serialisation.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=12,
)


def test_canonicalize_matches_rfc8785_sample() -> None:
    assert canonicalize(json.loads(RFC8785_SAMPLE)) == RFC8785_SAMPLE_CANONICAL.encode()


def test_canonicalize_sorts_keys_by_utf16_code_units() -> None:
    canonical = json.loads(canonicalize(json.loads(RFC8785_SORTING_SAMPLE)))

    assert list(canonical.values()) == RFC8785_SORTED_VALUES


@pytest.mark.parametrize(("bits", "expected"), RFC8785_NUMBERS)
def test_canonicalize_writes_numbers_as_rfc8785_appendix_b(bits: str, expected: str) -> None:
    assert canonicalize(double(bits)) == expected.encode()


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (4.5, "4.5"),
        (0.002, "0.002"),
        (-0.0, "0"),
        (1e20, "1" + "0" * 20),
    ],
)
def test_serialize_number_follows_ecmascript_number_to_string(number: float, expected: str) -> None:
    assert serialize_number(number) == expected


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1.0, math.nan], {"a": math.inf}])
def test_canonicalize_refuses_nan_and_infinity(value: object) -> None:
    with pytest.raises(CanonicalJSONError, match="NaN and Infinity"):
        canonicalize(value)


@pytest.mark.parametrize("value", [{1: "a"}, {None: "a"}, {("a",): 1}])
def test_canonicalize_refuses_non_string_keys(value: object) -> None:
    with pytest.raises(CanonicalJSONError, match="keys must be strings"):
        canonicalize(value)


@pytest.mark.parametrize("value", ["\ud800", {"\udfff": 1}, ["ok", "a\ud83d"]])
def test_canonicalize_refuses_lone_surrogates(value: object) -> None:
    with pytest.raises(CanonicalJSONError, match="surrogate"):
        canonicalize(value)


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, Decimal("1.5"), object(), 10**400])
def test_canonicalize_refuses_values_without_a_json_form(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonicalize(value)


def test_canonicalize_escapes_only_what_rfc8785_escapes() -> None:
    text = '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028é😀'

    assert canonicalize(text) == ('"\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028é😀"').encode()


def test_canonicalize_writes_integers_beyond_2_53_as_their_double() -> None:
    assert (
        canonicalize([2**53, 2**53 + 1, -(2**60)])
        == b"[9007199254740992,9007199254740992,-1152921504606847000]"
    )


def test_canonicalize_writes_no_whitespace() -> None:
    assert canonicalize({"b": [1, {"c": None}], "a": "x y"}) == b'{"a":"x y","b":[1,{"c":null}]}'


def test_canonicalize_refuses_nesting_beyond_the_recursion_limit() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]

    with pytest.raises(CanonicalJSONError, match="nested"):
        canonicalize(deep)


@settings(deadline=None)
@given(value=json_values)
def test_canonicalize_is_stable_through_a_parse(value: object) -> None:
    canonical = canonicalize(value)

    assert canonicalize(json.loads(canonical)) == canonical


@settings(deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonicalize_ignores_key_order(value: dict[str, object]) -> None:
    reversed_order = dict(reversed(list(value.items())))

    assert canonicalize(reversed_order) == canonicalize(value)
