"""The audit trail: one append-only table of what was done, by whom, to what, chained by hashes.

Every event is written in the same transaction as the change it records (a staff action, an
objection's status change, an export, a login, a call of the platform's API), so the trail and
the data never disagree. Each row carries the SHA-256 of its own canonical serialisation, which
includes the previous row's hash: editing, inserting or deleting a row breaks the chain, and
``verify`` names the first row that does not hold. Writers take the chain's head row
(``audit_head``, one row) with an ``UPDATE`` first, so concurrent transactions append one after
the other and keep a single chain, on SQLite and PostgreSQL alike.

The database refuses ``UPDATE`` on the table, and ``DELETE`` of any row that no checkpoint
covers (triggers, migration 0006): only ``purge`` removes rows, those older than the retention
window, and it first records a *checkpoint* (the last purged row's id and hash), from which the
chain still verifies. In production the application's role gets only INSERT and SELECT
(docs/deploy.md).

No personal data: actors, targets and details are ids, codes and counts, never a name, an
address, a NIR or a pseudonym (``record`` refuses a detail shaped like a NIR or an e-mail
address; a pseudonym has the shape of a hash, which details may hold, so callers never pass
one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, BigInteger, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import add_months, local_date, start_of_local_day, utcnow
from core.database import Base, UTCDateTime, dialect_insert

GENESIS = "0" * 64  #: the "previous hash" of the first row
RETENTION_MONTHS = 12  # CNIL guidance on logs of access to personal data: 6 months to 1 year
CHECKPOINT = "audit.checkpoint"
# Shapes that must never be in a detail: a NIR, an e-mail address.
_PERSONAL = re.compile(r"(?<![0-9])[1-478][0-9]{12,14}(?![0-9])|@")


class AuditEvent(Base):
    """One thing done. Never updated; deleted only by ``purge``, behind a checkpoint."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))  # "staff:12", "platform:3", "citizen:web"
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(80), default="")  # "objection:42"
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set on a checkpoint only: the last row ``purge`` deleted behind it. The database lets a
    # row be deleted only when a checkpoint covers it.
    covers_through: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last id and hash. Appending updates it first, which serialises
    writers (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


class PersonalDataInAudit(ValueError):
    """A detail that looks like personal data: the audit trail keeps ids and codes only."""


def canonical(event: AuditEvent) -> bytes:
    """The bytes a row's hash covers: every field but the hash, in a fixed order, as compact
    JSON with sorted keys, the moment in UTC to the microsecond."""
    return json.dumps([event.id, _utc(event.at).isoformat(timespec="microseconds"),
                       event.actor, event.action, event.target, event.detail or {},
                       event.covers_through, event.previous_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def digest(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check(detail: Mapping[str, object]) -> None:
    text = json.dumps(detail, ensure_ascii=False, default=str)
    if _PERSONAL.search(text):
        raise PersonalDataInAudit("an audit detail looks like personal data")


def record(session: Session, action: str, *, actor: str, target: str = "",
           detail: Mapping[str, object] | None = None, at: datetime | None = None,
           covers_through: int | None = None) -> AuditEvent:
    """Append an event to the chain, in the session's transaction (flushed, not committed:
    it commits or rolls back with the change it records)."""
    detail = dict(detail or {})
    _check(detail)
    session.flush()  # the change this records goes first
    last_id, last_hash = _take_head(session)
    event = AuditEvent(id=last_id + 1, at=_utc(at or utcnow()), actor=actor, action=action,
                       target=target, detail=detail, covers_through=covers_through,
                       previous_hash=last_hash, hash="")
    event.hash = digest(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_id=event.id, last_hash=event.hash))
    session.flush()
    return event


def _take_head(session: Session) -> tuple[int, str]:
    """(last id, last hash) of the chain, locked for this transaction: the ``UPDATE`` takes
    the row (or SQLite's write lock) before the head is read, so no other writer can append
    between this read and this transaction's end."""
    lock = update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id)
    if not session.execute(lock).rowcount:  # a new database: the head row is created once,
        session.execute(dialect_insert(session)(AuditHead)  # by whichever writer comes first
                        .values(id=1, last_id=0, last_hash=GENESIS).on_conflict_do_nothing())
        session.execute(lock)
    row = session.execute(select(AuditHead.last_id, AuditHead.last_hash)
                          .where(AuditHead.id == 1)).one()
    return int(row[0]), str(row[1])


def head(session: Session) -> tuple[int, str]:
    """The chain's last id and hash (an exclusion list's header carries them, so the platform
    holds an outside copy no database administrator can rewrite)."""
    row = session.execute(select(AuditHead.last_id, AuditHead.last_hash)
                          .where(AuditHead.id == 1)).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


# --------------------------------------------------------------------------- verifying

@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: rows checked, from which checkpoint, and the first broken row
    with the reason (None when the whole chain holds)."""

    checked: int
    since: int  # the first id checked (after the last checkpoint)
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _rows(session: Session, after: int, batch: int = 5000) -> Iterator[AuditEvent]:
    last = after
    while True:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.id > last)
                                    .order_by(AuditEvent.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the chain from the first row (or the latest checkpoint's) and recompute every hash:
    the first row whose hash, link or number does not hold is named, with why."""
    start_id, expected_previous = 0, GENESIS
    first = session.scalar(select(AuditEvent).order_by(AuditEvent.id).limit(1))
    if first is not None and first.id != 1:
        checkpoint = session.scalar(
            select(AuditEvent).where(AuditEvent.covers_through.is_not(None))
            .order_by(AuditEvent.id.desc()).limit(1))
        if checkpoint is None or checkpoint.covers_through != first.id - 1:
            return Verification(0, first.id, first.id,
                                "rows are missing before it and no checkpoint covers them")
        start_id = first.id - 1
        expected_previous = str(checkpoint.detail.get("purged_through_hash", ""))
    checked = 0
    expected_id = start_id + 1
    for event in _rows(session, start_id):
        if event.id != expected_id:
            return Verification(checked, start_id + 1, expected_id,
                                f"row {expected_id} is missing")
        if event.previous_hash != expected_previous:
            return Verification(checked, start_id + 1, event.id,
                                "its link to the previous row does not match")
        if digest(event) != event.hash:
            return Verification(checked, start_id + 1, event.id,
                                "its content does not match its hash (edited)")
        expected_previous, expected_id = event.hash, event.id + 1
        checked += 1
    last_id, last_hash = head(session)
    if checked and (last_id != expected_id - 1 or last_hash != expected_previous):
        return Verification(checked, start_id + 1, last_id,
                            "the chain's head does not match its last row")
    return Verification(checked, start_id + 1)


# --------------------------------------------------------------------------- retention

def purge(session: Session, *, now: datetime | None = None,
          months: int = RETENTION_MONTHS, actor: str = "system") -> int:
    """Delete the rows older than ``months`` (by the calendar in France), after recording a
    checkpoint that names the last purged row and its hash, so the chain still verifies from
    there. Returns how many rows were deleted."""
    now = now or utcnow()
    cutoff = start_of_local_day(add_months(local_date(now), -months))
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.at < cutoff)
                           .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return 0
    count = session.scalar(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.id <= last[0])) or 0
    record(session, CHECKPOINT, actor=actor, at=now, covers_through=int(last[0]), detail={
        "purged_through_hash": str(last[1]), "rows": int(count),
        "older_than": cutoff.isoformat()})
    session.execute(delete(AuditEvent).where(AuditEvent.id <= last[0]))
    session.flush()
    return int(count)


def recent(session: Session, *, action: str | None = None, actor: str | None = None,
           target: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 100, before_id: int | None = None
           ) -> list[AuditEvent]:
    """Events, newest first, filtered (the back-office's audit page)."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if actor:
        statement = statement.where(AuditEvent.actor == actor)
    if target:
        statement = statement.where(AuditEvent.target == target)
    if since:
        statement = statement.where(AuditEvent.at >= since)
    if until:
        statement = statement.where(AuditEvent.at < until + timedelta(days=1))
    if before_id:
        statement = statement.where(AuditEvent.id < before_id)
    return list(session.scalars(statement))
