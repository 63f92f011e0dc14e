"""What the platform gets and what it tells us: the next file, the full set, acknowledgements.

Each function starts its transaction by taking the exclusion state (``state.lock``), brings the
published set up to date when the platform asks for what comes after the latest sequence, and
moves the filings an export covers: to ``sent_to_platform`` when the platform pulls it, to
``applied`` when it acknowledges it. Those moves are the bulk form of
``objection.service.change_status``: one event per filing on its timeline (the follow-up page
shows it), one audit event with counts and sequence numbers (no pseudonym), and no mail (a
first full export would mail every person who ever objected; the follow-up page says it).
Services: flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from objection.exclusions import exports, state
from objection.exclusions.exports import ExportGone, Spooled
from objection.exclusions.models import NOT_SENT, ExclusionExport
from objection.keys import keyring
from objection.models import Objection, ObjectionEvent, ObjectionStatus
from staff import audit

MOVE_BATCH = 5000
#: Filings moved within an API call; more (a first full export of a whole country) are moved
#: by ``flask objection export`` (``catch_up``), in batches, each committed.
REQUEST_MOVES = 20_000
#: The largest set an API call rebuilds (a rebase); a bigger one is ``flask objection
#: export``'s work (minutes for millions, past any request's time limit).
REQUEST_REBASE = 100_000


class UnknownSequence(LookupError):
    """A sequence number this site never published."""


class RebaseTooBig(RuntimeError):
    """The set must be rebuilt (first export, new pseudonym key) and is too big for a
    request: ``flask objection export`` does it."""


@dataclass
class Served:
    """A file to send: its export row, and its body when it was just made (spooled)."""

    export: ExclusionExport
    spooled: Spooled | None = None

    def close(self) -> None:
        if self.spooled is not None:
            self.spooled.close()


def bring_up_to_date(session: Session, the_state, *, now: datetime, actor: str,
                     max_rebase: int | None = None) -> Served | None:
    """Publish what the queue holds as the next file (None when nothing moved). With
    ``max_rebase``, a rebuild of more filings than that raises RebaseTooBig."""
    key_id = keyring().current_id
    if max_rebase is not None and the_state.key_id != key_id and state.filings_in_force(
            session, key_id) > max_rebase:
        raise RebaseTooBig(key_id)
    advanced = state.advance(session, the_state, key_id=key_id, now=now)
    if advanced is None:
        return None
    export, spooled = exports.create(session, advanced.sequence, advanced.kind,
                                     key_id=the_state.key_id, now=now, actor=actor,
                                     additions=advanced.additions, removals=advanced.removals)
    return Served(export, spooled)


def next_after(session: Session, after: int, *, now: datetime, actor: str,
               max_rebase: int | None = None) -> Served | None:
    """The file that follows ``after``: an existing one when the platform is behind, else a
    new delta if anything changed (None: nothing new). Raises UnknownSequence for a sequence
    never published, ExportGone for one whose lines were forgotten."""
    the_state = state.lock(session)
    if after > the_state.last_sequence or after < 0:
        raise UnknownSequence(after)
    if after == the_state.last_sequence:
        return bring_up_to_date(session, the_state, now=now, actor=actor,
                                max_rebase=max_rebase)
    sequence = after + 1
    export = exports.chain_export(session, sequence)
    if export is None or sequence < the_state.compacted_through or (
            export.kind == "delta" and sequence == the_state.compacted_through):
        raise ExportGone(sequence)  # its removed lines are forgotten (retention)
    return Served(export)


def full(session: Session, *, now: datetime, actor: str, max_rebase: int | None = None
         ) -> Served | None:
    """The full set at the latest sequence, brought up to date first (None before the first
    export, when no one has objected)."""
    the_state = state.lock(session)
    made = bring_up_to_date(session, the_state, now=now, actor=actor, max_rebase=max_rebase)
    if made is not None and made.export.kind == "full":
        return made
    if made is not None:
        made.close()
    if the_state.last_sequence == 0:
        return None
    existing = exports.find(session, the_state.last_sequence, "full")
    if existing is not None:
        return Served(existing)
    export, spooled = exports.create(session, the_state.last_sequence, "full",
                                     key_id=the_state.key_id, now=now, actor=actor)
    return Served(export, spooled)


def _move(session: Session, sequence: int, from_statuses: tuple, to_status: ObjectionStatus,
          *, now: datetime, actor: str, limit: int | None = None) -> tuple[int, bool]:
    """Move the filings covered by exports up to ``sequence`` from ``from_statuses`` to
    ``to_status``, in batches (bounded memory), each with its timeline event; at most
    ``limit``. Returns (how many moved, whether any is left)."""
    moved = 0
    while limit is None or moved < limit:
        size = MOVE_BATCH if limit is None else min(MOVE_BATCH, limit - moved)
        batch = (select(Objection.id).where(Objection.exclusion_sequence <= sequence,
                                            Objection.status.in_(from_statuses))
                 .order_by(Objection.id).limit(size).scalar_subquery())
        ids = list(session.scalars(
            update(Objection).where(Objection.id.in_(batch),
                                    Objection.status.in_(from_statuses))
            .values(status=to_status, status_changed_at=now)
            .returning(Objection.id), execution_options={"synchronize_session": False}))
        if not ids:
            return moved, False
        session.execute(insert(ObjectionEvent), [
            {"objection_id": objection_id, "at": now, "action": str(to_status),
             "status": str(to_status), "by": actor, "detail": f"sequence={sequence}"}
            for objection_id in ids])
        moved += len(ids)
    left = session.scalar(select(Objection.id).where(
        Objection.exclusion_sequence <= sequence, Objection.status.in_(from_statuses))
        .limit(1)) is not None
    return moved, left


def mark_pulled(session: Session, export: ExclusionExport, *, now: datetime, actor: str,
                limit: int | None = None) -> int:
    """The platform received ``export``: the filings it covers are ``sent_to_platform`` (at
    most ``limit`` now, the rest by ``catch_up``), with an audit event. Returns how many
    moved."""
    moved, left = _move(session, export.sequence, NOT_SENT, ObjectionStatus.SENT, now=now,
                        actor=actor, limit=limit)
    if export.pulled_at is None:
        export.pulled_at = now
    audit.record(session, "exclusions.pulled", actor=actor,
                 target=f"exclusions:{export.sequence}", at=now,
                 detail={"kind": export.kind, "lines": export.line_count,
                         "filings_sent": moved, "more_to_move": left})
    return moved


def acknowledge(session: Session, sequence: int, *, now: datetime, actor: str,
                limit: int | None = None) -> int:
    """The platform applied the set up to ``sequence``: the filings it covers are
    ``applied`` (at most ``limit`` now, the rest by ``catch_up``). Idempotent (a second
    acknowledgement moves nothing). Raises UnknownSequence for a sequence never published."""
    the_state = state.lock(session)
    if sequence < 1 or sequence > the_state.last_sequence:
        raise UnknownSequence(sequence)
    moved, left = _move(session, sequence, (*NOT_SENT, ObjectionStatus.SENT),
                        ObjectionStatus.APPLIED, now=now, actor=actor, limit=limit)
    for export in session.scalars(select(ExclusionExport).where(
            ExclusionExport.sequence == sequence, ExclusionExport.acknowledged_at.is_(None))):
        export.acknowledged_at = now
    if sequence > the_state.acknowledged_sequence:
        the_state.acknowledged_sequence, the_state.acknowledged_at = sequence, now
    audit.record(session, "exclusions.acknowledged", actor=actor,
                 target=f"exclusions:{sequence}", at=now,
                 detail={"filings_applied": moved, "more_to_move": left})
    return moved


def catch_up(session: Session, *, now: datetime, actor: str,
             limit: int = MOVE_BATCH) -> int:
    """Move what a pull or an acknowledgement left to move (``limit`` at a time: the command
    commits between calls until it returns 0). Returns how many moved."""
    the_state = state.read_state(session)
    acknowledged = the_state.acknowledged_sequence if the_state else 0
    pulled = session.scalar(select(func.max(ExclusionExport.sequence)).where(
        ExclusionExport.pulled_at.is_not(None))) or 0
    moved = 0
    if acknowledged:
        moved, _left = _move(session, acknowledged, (*NOT_SENT, ObjectionStatus.SENT),
                             ObjectionStatus.APPLIED, now=now, actor=actor, limit=limit)
    if pulled and moved < limit:
        more, _left = _move(session, pulled, NOT_SENT, ObjectionStatus.SENT, now=now,
                            actor=actor, limit=limit - moved)
        moved += more
    return moved
