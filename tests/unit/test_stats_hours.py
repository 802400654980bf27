"""The hours delivery statistics are counted in and read back: UTC, whole hours, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from pushgate import clock
from pushgate.apps.stats import recent_hours

MOMENT = datetime(2026, 12, 1, 11, 39, 59, tzinfo=UTC).timestamp()


def test_clock_utc_hour_is_the_start_of_the_hour_in_rfc3339():
    assert clock.utc_hour(MOMENT) == "2026-12-01T11:00:00Z"
    assert clock.hour_start(MOMENT) == MOMENT - 39 * 60 - 59
    assert clock.utc_hour(clock.hour_start(MOMENT) - 1) == "2026-12-01T10:00:00Z"


def test_stats_recent_hours_are_exactly_that_many_oldest_first_ending_now():
    assert recent_hours(3, MOMENT) == [
        "2026-12-01T09:00:00Z",
        "2026-12-01T10:00:00Z",
        "2026-12-01T11:00:00Z",
    ]
    assert recent_hours(1, MOMENT) == ["2026-12-01T11:00:00Z"]
    whole = recent_hours(48, MOMENT)
    assert len(whole) == len(set(whole)) == 48
    assert (whole[0], whole[-1]) == ("2026-11-29T12:00:00Z", "2026-12-01T11:00:00Z")
    assert whole == sorted(whole)


def test_stats_recent_hours_cross_midnight_and_month_ends():
    just_after_new_year = datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC).timestamp()

    assert recent_hours(2, just_after_new_year) == [
        "2026-12-31T23:00:00Z",
        "2027-01-01T00:00:00Z",
    ]
