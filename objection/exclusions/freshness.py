"""Freshness: every filing in force is in an export within 24 hours.

The oldest filing in force that no export covers yet (``received`` or ``verified``, without an
exclusion sequence; a partial index makes it one read) gives the age the health check and
``flask objection export-status`` show; past the limit they warn. A stuck export (a rotation
not finished, a failing job) shows here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from objection.exclusions import state
from objection.models import AWAITING_EXPORT_WHERE, Objection

LIMIT = timedelta(hours=24)


@dataclass(frozen=True)
class Freshness:
    oldest_waiting_since: datetime | None
    age: timedelta | None
    last_sequence: int
    last_export_at: datetime | None
    acknowledged_sequence: int
    acknowledged_at: datetime | None

    @property
    def late(self) -> bool:
        return self.age is not None and self.age > LIMIT

    def as_json(self) -> dict[str, object]:
        return {
            "status": "late" if self.late else "ok",
            "oldest_unexported_age_seconds": (int(self.age.total_seconds())
                                              if self.age is not None else None),
            "limit_seconds": int(LIMIT.total_seconds()),
            "last_sequence": self.last_sequence,
            "acknowledged_sequence": self.acknowledged_sequence,
        }


def freshness(session: Session, now: datetime) -> Freshness:
    # The partial index's own condition, written the same (both databases then use it).
    oldest = session.scalar(select(func.min(Objection.status_changed_at))
                            .where(text(AWAITING_EXPORT_WHERE)))
    the_state = state.read_state(session)
    return Freshness(
        oldest_waiting_since=oldest, age=(now - oldest) if oldest is not None else None,
        last_sequence=the_state.last_sequence if the_state else 0,
        last_export_at=the_state.changed_at if the_state else None,
        acknowledged_sequence=the_state.acknowledged_sequence if the_state else 0,
        acknowledged_at=the_state.acknowledged_at if the_state else None)
