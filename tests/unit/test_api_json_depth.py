"""The JSON depth check every HTTP function runs before routing and authentication: counted
right around strings, and linear in the body whatever its shape (callers choose it)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pushgate.api import MAX_JSON_DEPTH, _unreadable_body, json_depth

REPO = Path(__file__).resolve().parents[2]
SMALL, LARGE = 64 * 1024, 1024 * 1024
# Per-byte cost at 1 MB over the cost at 64 KB: about 1 when linear, 16 when quadratic.
MAX_COST_RATIO = 4.0


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ('{"a": 1}', 1),
        ("[[], [[]], {}]", 3),
        ('{"a": "[[[[{{{{"}', 1),
        ('{"a": "\\"[[[["}', 1),
        ('["\\\\", [[]]]', 3),
        ('["\\\\\\"[[", [[]]]', 3),
        ('{"k\\"[": {"v": ["]]]]"]}}', 3),
        ('["\\u005b", "\\/["]', 1),
    ],
)
def test_json_depth_counts_brackets_outside_strings_only(text: str, depth: int) -> None:
    assert json_depth(text) == depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("[" * 33 + '"' + '\\"' * 1000, 33),  # unterminated string after 33 brackets
        ("[" * 32 + '"' + '\\"' * 1000, 32),
        ("[" * 32 + '"",' * 1000, 32),  # many quotes
        ("[" * 32 + '"' * 1001, 32),  # an odd run: the last one never closes
        ("[" * 32 + '"' + "\\\\" * 1000 + '"' + "[", 33),  # many backslashes, then a bracket
        ("[" * 32 + '"' + "\\" * 1001, 32),  # ends on a lone backslash inside a string
        ('["' + "[" * 1000, 1),  # brackets after an unterminated string are in the string
        ("]" * 5 + "[" * 40, 35),  # not JSON: never less deep than the parser would go
    ],
)
def test_json_depth_of_adversarial_shapes(text: str, depth: int) -> None:
    assert json_depth(text) == depth


def test_unreadable_body_refuses_only_bodies_deeper_than_the_limit() -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    at_limit = '{"a": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    brackets_in_strings = json.dumps({"title": "[" * 100, "body": "{" * 100})

    assert _unreadable_body({"body": deep}) == "body: is nested deeper than 32 levels"
    assert _unreadable_body({"body": at_limit}) is None
    assert _unreadable_body({"body": brackets_in_strings}) is None


# Measured in a child process so that a quadratic check fails on its deadline instead of
# holding the test run for hours (the check before this one took 25 s at 64 KB).
_COST_PROBE = textwrap.dedent(
    """
    import json, sys, time
    from pushgate.api import _unreadable_body

    def fill(prefix, unit, size, suffix=""):
        return prefix + unit * ((size - len(prefix) - len(suffix)) // len(unit)) + suffix

    SHAPES = {
        "33 brackets, unterminated escaped quotes": ("[" * 33 + '"', '\\\\"', ""),
        "32 brackets, unterminated escaped quotes": ("[]" + "[" * 32 + '"', '\\\\"', ""),
        "many empty strings": ("[]" + "[" * 32, '"",', ""),
        "many backslashes in a string": ("[]" + "[" * 32 + '"', "\\\\\\\\", '"'),
        "brackets after an unterminated string": ('"', "[", ""),
        "flat bracket pairs": ("", "[]", ""),
        "strings in arrays": ("[", '[""],', "]"),
    }
    costs = {}
    for name, (prefix, unit, suffix) in SHAPES.items():
        costs[name] = []
        for size in map(int, sys.argv[1:]):
            body = fill(prefix, unit, size, suffix)
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                _unreadable_body({"body": body})
                best = min(best, time.perf_counter() - started)
            costs[name].append(best / len(body))
    print(json.dumps(costs))
    """
)


def test_json_depth_check_costs_the_same_per_byte_at_64_kb_and_1_mb() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _COST_PROBE, str(SMALL), str(LARGE)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PYTHONPATH": f"{REPO / 'layers' / 'pushgate'}"},
        check=True,
    )
    costs = json.loads(probe.stdout)

    ratios = {name: large / small for name, (small, large) in costs.items()}
    assert all(ratio < MAX_COST_RATIO for ratio in ratios.values()), ratios
    # Linear with a small constant: a 1 MB body of any shape is checked in well under 1 s.
    assert max(large for _, large in costs.values()) * LARGE < 1.0, costs
