"""Public statistics of objections: filings by month, age band and sex, with small cells
hidden so no one can be singled out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.database import dialect_insert, scalar_reader
from objection.models import FilingCount, Objection

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


def count_filing(session: Session, objection: Objection) -> None:
    """Count a new filing in its cell (month filed, age band, sex), in the filing's own
    transaction: ``public_statistics`` then reads a few dozen rows, whatever the number of
    filings (an upsert, so two first filings of a month never collide)."""
    table = FilingCount.__table__
    insert = dialect_insert(session)(FilingCount).values(
        month_filed=objection.month_filed, age_band=objection.age_band, sex=objection.sex,
        filings=1)
    session.execute(insert.on_conflict_do_update(
        index_elements=["month_filed", "age_band", "sex"],
        set_={"filings": table.c.filings + 1}))


def statistics_version(session: Session) -> str:
    """Changes whenever ``public_statistics`` may change: for the statistics page's ETag and
    its page-cache entry. The figures count every filing, filings are never deleted and their
    counted facts never change (the yearly erasure keeps them), so the last filing's id
    follows them: one index read."""
    return str(session.scalar(select(func.max(Objection.id))) or 0)


def version_reader(engine: Engine) -> Callable[[], str]:
    """``statistics_version`` outside any request (the page cache asks it)."""
    read = scalar_reader(engine, "SELECT max(id) FROM objections")
    return lambda: str(read() or 0)


def public_statistics(session: Session) -> dict:
    """Objection requests received, by month filed, age band and sex; small cells suppressed.

    Every filing counts, including a later filing for someone who had already objected and a
    filing since withdrawn. Counting people instead (once, by their first filing) would let
    anyone holding a NIR learn whether that person had objected: file for them, and see whether
    the total moves. Here a repeat filing moves the figures exactly as a first one does."""
    rows = session.execute(select(FilingCount.month_filed, FilingCount.age_band,
                                  FilingCount.sex, FilingCount.filings))
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
