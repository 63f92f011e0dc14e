"""Public statistics of objections: filings by month, age band and sex, with small cells
hidden so no one can be singled out."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from objection.models import Objection

SUPPRESSION_THRESHOLD = 10
AGE_BANDS = ["0-17", "18-29", "30-44", "45-59", "60-74", "75+"]


def suppress_small_cells(counts: dict[str, int], order: list[str] | None = None,
                         threshold: int = SUPPRESSION_THRESHOLD) -> list[tuple[str, int | None]]:
    """The cells of one breakdown, each under ``threshold`` replaced by None.

    Every breakdown adds up to the published total, so a single hidden cell could be worked out
    by subtraction: when exactly one cell is hidden, the smallest shown cell is hidden too
    (secondary suppression)."""
    keys = [k for k in (order or sorted(counts)) if counts.get(k)]
    hidden = {k for k in keys if counts[k] < threshold}
    if len(hidden) == 1:
        shown = sorted((k for k in keys if k not in hidden), key=lambda k: (counts[k], k))
        if shown:
            hidden.add(shown[0])
    return [(k, None if k in hidden else counts[k]) for k in keys]


def statistics_version(session: Session) -> str:
    """Changes whenever ``public_statistics`` may change: for the statistics page's ETag.

    The figures count every filing, and filings are never deleted (the yearly erasure keeps the
    coarse facts the figures use), so the number of filings and the last id follow them."""
    count, last = session.execute(select(func.count(), func.max(Objection.id))).one()
    return f"{count}-{last or 0}"


def public_statistics(session: Session) -> dict:
    """Objection requests received, by month filed, age band and sex; small cells suppressed.

    Every filing counts, including a later filing for someone who had already objected and a
    filing since withdrawn. Counting people instead (once, by their first filing) would let
    anyone holding a NIR learn whether that person had objected: file for them, and see whether
    the total moves. Here a repeat filing moves the figures exactly as a first one does."""
    rows = session.execute(
        select(Objection.month_filed, Objection.age_band, Objection.sex, func.count())
        .group_by(Objection.month_filed, Objection.age_band, Objection.sex))
    by_month: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    for month, band, sex, count in rows:
        by_month[month] += count
        by_age[band] += count
        by_sex[sex] += count
    total = sum(by_month.values())
    months = [(date.fromisoformat(f"{month}-01"), count)
              for month, count in suppress_small_cells(by_month)]
    return {
        "total": total if total >= SUPPRESSION_THRESHOLD else None,
        "by_month": months,
        "by_age_band": suppress_small_cells(by_age, AGE_BANDS),
        "by_sex": suppress_small_cells(by_sex, ["F", "M"]),
        "threshold": SUPPRESSION_THRESHOLD,
    }
