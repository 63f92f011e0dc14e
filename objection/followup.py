"""The follow-up look-up: a reference and its code open a filing; wrong codes are counted and
lock the reference for a while, so codes cannot be guessed.

Wrong codes are counted per reference *and* per connection (the client address, IPv6 per /64,
kept as a keyed hash): five from one connection lock that reference for that connection only,
for 30 minutes. A stranger guessing codes for someone's reference therefore never keeps its
owner out (unless they share a connection: staff can then lift every lock of the reference,
``unlock``). Guessing stays hopeless: a code is 60 random bits, and each connection gets five
tries per half hour.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ForeignKey, Integer, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import utcnow
from core.database import Base, UTCDateTime, dialect_insert
from objection.models import Objection
from objection.references import code_matches, hash_code, normalise_reference

MAX_FAILED_LOOKUPS = 5
LOCKOUT = timedelta(minutes=30)


class FollowUpFailure(Base):
    """Wrong codes for one reference from one connection (``address_key``: a keyed hash of
    the client address, never the address)."""

    __tablename__ = "objection_followup_failures"

    objection_id: Mapped[int] = mapped_column(
        ForeignKey("objections.id", ondelete="CASCADE"), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FollowUpLocked(Exception):
    """Too many wrong codes for this reference from this connection: look-ups are paused
    until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def address_key(address: str) -> str:
    """A keyed hash (``SECRET_KEY``) of the client address: the table links no address."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"followup|{address}".encode(), hashlib.sha256).hexdigest()[:32]


def find_for_followup(session: Session, reference: str, code: str,
                      now: datetime | None = None, address: str = "") -> Objection | None:
    """The objection if ``code`` is its follow-up code; None otherwise (unknown reference and
    wrong code look the same). Raises FollowUpLocked after too many wrong codes from this
    connection (``address``)."""
    now = now or utcnow()
    canonical = normalise_reference(reference)
    if canonical is None:
        return None
    objection = session.scalar(select(Objection).where(Objection.reference == canonical))
    if objection is None:
        code_matches(hash_code("constant-time-filler"), code)  # costs what a known one does
        return None
    key = address_key(address)
    lock = session.get(FollowUpFailure, (objection.id, key))
    if lock is not None and lock.locked_until and lock.locked_until > now:
        raise FollowUpLocked(lock.locked_until)
    if not code_matches(objection.followup_hash, code):
        _count_wrong_code(session, objection, key, now)
        return None
    if lock is not None:
        session.delete(lock)
    session.flush()
    return objection


def _count_wrong_code(session: Session, objection: Objection, key: str, now: datetime) -> None:
    """Count a wrong code in the database itself (``failures = failures + 1``), not from the
    value this request read: wrong codes sent at the same time each count. The request that
    reaches the limit locks the reference for this connection (once: the reset is
    conditional); any request that finds it locked is told so."""
    session.execute(dialect_insert(session)(FollowUpFailure)
                    .values(objection_id=objection.id, address_key=key, failures=0)
                    .on_conflict_do_nothing())
    count, locked_until = session.execute(
        update(FollowUpFailure)
        .where(FollowUpFailure.objection_id == objection.id,
               FollowUpFailure.address_key == key)
        .values(failures=FollowUpFailure.failures + 1)
        .returning(FollowUpFailure.failures, FollowUpFailure.locked_until),
        execution_options={"synchronize_session": False}).one()
    if count >= MAX_FAILED_LOOKUPS:
        locked_until = now + LOCKOUT
        locked = session.execute(
            update(FollowUpFailure)
            .where(FollowUpFailure.objection_id == objection.id,
                   FollowUpFailure.address_key == key,
                   FollowUpFailure.failures >= MAX_FAILED_LOOKUPS)
            .values(failures=0, locked_until=locked_until),
            execution_options={"synchronize_session": False}).rowcount
        if locked:
            objection.record("followup_locked", by="system", at=now)
    session.flush()
    if locked_until is not None and locked_until > now:
        raise FollowUpLocked(locked_until)


def locks(session: Session, objection: Objection, now: datetime | None = None) -> int:
    """How many connections are locked out of this reference now."""
    now = now or utcnow()
    return len(list(session.scalars(select(FollowUpFailure).where(
        FollowUpFailure.objection_id == objection.id, FollowUpFailure.locked_until > now))))


def unlock(session: Session, objection: Objection) -> int:
    """Lift every lock and count of wrong codes for this reference (staff, when its owner is
    kept out); returns how many connections were locked."""
    locked = locks(session, objection)
    session.execute(delete(FollowUpFailure).where(
        FollowUpFailure.objection_id == objection.id))
    session.flush()
    return locked
