"""The follow-up look-up: a reference and its code open a filing; wrong codes are counted and
lock the reference for a while, so codes cannot be guessed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from objection.models import Objection
from objection.references import code_matches, hash_code, normalise_reference

MAX_FAILED_LOOKUPS = 5
LOCKOUT = timedelta(minutes=30)


class FollowUpLocked(Exception):
    """Too many wrong codes for this reference: look-ups are paused until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def find_for_followup(session: Session, reference: str, code: str,
                      now: datetime | None = None) -> Objection | None:
    """The objection if ``code`` is its follow-up code; None otherwise (unknown reference and
    wrong code look the same). Raises FollowUpLocked after too many wrong codes."""
    now = now or utcnow()
    canonical = normalise_reference(reference)
    if canonical is None:
        return None
    objection = session.scalar(select(Objection).where(Objection.reference == canonical))
    if objection is None:
        code_matches(hash_code("constant-time-filler"), code)  # costs what a known one does
        return None
    if objection.locked_until and objection.locked_until > now:
        raise FollowUpLocked(objection.locked_until)
    right = code_matches(objection.followup_hash, code)
    if not right:
        _count_wrong_code(session, objection, now)
        return None
    objection.failed_lookups = 0
    objection.locked_until = None
    session.flush()
    return objection


def _count_wrong_code(session: Session, objection: Objection, now: datetime) -> None:
    """Count a wrong code in the database itself (``failed_lookups = failed_lookups + 1``), not
    from the value this request read: wrong codes sent at the same time each count, so a burst
    of guesses cannot slip past the limit. The request that reaches it locks the reference
    (once: the reset is conditional); any request that finds it locked is told so."""
    count, locked_until = session.execute(
        update(Objection).where(Objection.id == objection.id)
        .values(failed_lookups=Objection.failed_lookups + 1)
        .returning(Objection.failed_lookups, Objection.locked_until),
        execution_options={"synchronize_session": "fetch"}).one()
    if count >= MAX_FAILED_LOOKUPS:
        locked_until = now + LOCKOUT
        locked = session.execute(
            update(Objection).where(Objection.id == objection.id,
                                    Objection.failed_lookups >= MAX_FAILED_LOOKUPS)
            .values(failed_lookups=0, locked_until=locked_until),
            execution_options={"synchronize_session": "fetch"}).rowcount
        if locked:
            objection.record("followup_locked", by="system", at=now)
    session.flush()
    if locked_until is not None and locked_until > now:
        raise FollowUpLocked(locked_until)
