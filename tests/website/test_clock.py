"""Calendar dates are French dates: a deadline read in Paris must not be a day behind."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.clock import local_date, local_today, start_of_local_day


def test_just_after_midnight_in_paris_is_already_the_next_day():
    # 23:30 UTC on 31 January is 00:30 on 1 February in Paris (UTC+1 in winter).
    assert local_today(datetime(2026, 1, 31, 23, 30, tzinfo=UTC)) == date(2026, 2, 1)
    # 22:30 UTC on 30 June is 00:30 on 1 July in Paris (UTC+2 in summer).
    assert local_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)


def test_the_afternoon_is_the_same_day_everywhere():
    assert local_today(datetime(2026, 3, 10, 14, 0, tzinfo=UTC)) == date(2026, 3, 10)
    # a naive value is read as UTC, as the database stores it
    assert local_date(datetime(2026, 3, 10, 23, 30)) == date(2026, 3, 11)


def test_a_french_day_starts_before_midnight_utc():
    assert start_of_local_day(date(2026, 12, 1)) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert start_of_local_day(date(2026, 7, 1)) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
