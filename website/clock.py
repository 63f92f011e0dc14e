"""The site's clock: instants in UTC, calendar dates in the site's time zone.

Deadlines people read (the date by which the platform must answer, "results overdue", the last
day a project accepts objections, the month an objection is counted in) are calendar dates in
France, not in UTC: between midnight and 1 or 2 a.m. in Paris, the UTC date is still yesterday.
Every package takes "today" from here, so they all agree on which day it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SITE_TIME_ZONE_NAME = "Europe/Paris"
SITE_TIME_ZONE = ZoneInfo(SITE_TIME_ZONE_NAME)


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(UTC)


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
