"""Outcome and Retry-After: the two ways a service says when to come back."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from pushgate.providers import MAX_RETRY_AFTER, Outcome, parse_retry_after

NOW = 1_700_000_000.0


def test_parse_retry_after_reads_delta_seconds() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0


def test_parse_retry_after_reads_an_http_date() -> None:
    assert parse_retry_after(formatdate(NOW + 90, usegmt=True), now=NOW) == pytest.approx(90.0)


def test_parse_retry_after_reads_an_rfc850_date_as_gmt() -> None:
    # 2023-11-14 22:13:20 GMT is NOW; this is 30 seconds later.
    assert parse_retry_after("Tuesday, 14-Nov-23 22:13:50 GMT", now=NOW) == pytest.approx(30.0)


def test_parse_retry_after_clamps_a_past_date_to_zero() -> None:
    assert parse_retry_after(formatdate(NOW - 600, usegmt=True), now=NOW) == 0.0


def test_parse_retry_after_caps_a_huge_delay() -> None:
    assert parse_retry_after("99999999", now=NOW) == MAX_RETRY_AFTER


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1e9", "Mon, 99 Foo 2024"])
def test_parse_retry_after_ignores_what_it_cannot_read(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_outcome_is_immutable() -> None:
    outcome = Outcome.delivered(200)
    with pytest.raises(AttributeError):
        outcome.status = "failed"  # type: ignore[misc]
