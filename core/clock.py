"""The site's clock: instants in UTC, calendar dates in the site's time zone.

Deadlines people read (the date by which the platform must answer, "results overdue", the last
day a project accepts objections, the month an objection is counted in) are calendar dates in
France, not in UTC: between midnight and 1 or 2 a.m. in Paris, the UTC date is still yesterday.
Every package takes "now" and "today" from here, so they all agree on which day it is, and a
test can set the time for the whole site in one place (``frozen_at``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SITE_TIME_ZONE_NAME = "Europe/Paris"
SITE_TIME_ZONE = ZoneInfo(SITE_TIME_ZONE_NAME)


_fixed_now: datetime | None = None


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC (what the database stores)."""
    return _fixed_now if _fixed_now is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make ``utcnow`` (and so every "today") answer ``moment`` inside the block: for tests and
    for replaying a batch as of a given time. Not thread-aware: the whole process sees it."""
    global _fixed_now
    if moment.tzinfo is None:
        raise ValueError("naive datetime: use an aware datetime")
    previous, _fixed_now = _fixed_now, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed_now = previous


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the site's time zone (naive values are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SITE_TIME_ZONE).date()


def local_today(now: datetime | None = None) -> date:
    """Today's date in the site's time zone (``now`` for tests and batch runs)."""
    return local_date(now or utcnow())


def start_of_local_day(day: date) -> datetime:
    """The instant, in UTC, at which ``day`` begins in the site's time zone (23:00 or 22:00
    UTC the day before): never later than now while ``day`` is today in France."""
    return datetime.combine(day, time(), SITE_TIME_ZONE).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, on the same day of the month or the month's
    last day when it has none (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when end is not after start)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)
