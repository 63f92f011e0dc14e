"""How long removed lines are kept: a withdrawn person's pseudonym stays in
``exclusion_entries`` (as a removed line) only while the platform may still fetch the delta
that removed it: 90 days after that delta was made. Then it is forgotten, like the filing
itself a year after its withdrawal (``objection.retention``). Deltas up to that sequence, and
full exports before it, are then answered "gone": the platform starts again from the latest
full export. Queue rows are consumed by every export and need no rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from objection.exclusions import state
from objection.exclusions.models import ExclusionEntry, ExclusionExport

REMOVED_LINES_KEPT = timedelta(days=90)


def compact(session: Session, *, now: datetime) -> int:
    """Forget the lines removed by exports made more than 90 days ago. Returns how many.
    Takes the exclusion state (one export at a time); flushes, never commits."""
    the_state = state.lock(session)
    through = session.scalar(select(func.max(ExclusionExport.sequence)).where(
        ExclusionExport.generated_at < now - REMOVED_LINES_KEPT)) or 0
    if through <= the_state.compacted_through:
        return 0
    deleted = session.execute(delete(ExclusionEntry).where(
        ExclusionEntry.removed_in.is_not(None), ExclusionEntry.removed_in <= through),
        execution_options={"synchronize_session": False}).rowcount
    the_state.compacted_through = int(through)
    session.flush()
    return int(deleted or 0)
