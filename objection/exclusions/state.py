"""The published exclusion set, and how it moves from one sequence to the next.

The set is one line per person and scope in force: a pseudonym (under one pseudonym key) and
``ALL`` or a project's reference, with the date it took effect. A filing counts when its status
is in force (``received``, ``verified``, ``sent_to_platform``, ``applied``; ``to_review`` not
yet); a person's linked filings give the same line, so each person and scope is written once.

Every change that may move the set leaves its person and scope in ``exclusion_queue`` (database
triggers on ``objections``, whatever code made the change: filing, review, withdrawal, erasure,
re-keying). ``advance`` consumes the queue in batches and settles each person and scope
against the filings in force now: a new line is added, a line no filing holds any more is
removed, and the changes get the next sequence number. The queue rows are deleted *before*
the filings are read, so a change committed meanwhile keeps its row for the next export: no
change is lost, and re-reading one twice changes nothing. A person and scope is written at
most once per delta (a line added then removed within one export never existed).

One export at a time: ``advance`` first takes the state row with an ``UPDATE`` (a row lock on
PostgreSQL, the write lock on SQLite), so sequence numbers have no gap and are never given
twice; the unique ``(sequence, kind)`` of the exports table backs it.

The first export, and the first after the pseudonym key changes, rebuild the whole set in one
statement (a *rebase*, published as a full export only); a rebase refuses to run while a
filing in force is still under another key (``RotationIncomplete``: run the rotation first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from core.clock import local_date
from core.database import dialect_insert
from objection.exclusions.dialect import local_day, modhex, scope_column, scope_of
from objection.exclusions.models import (
    IN_FORCE,
    ExclusionEntry,
    ExclusionQueueItem,
    ExclusionState,
)
from objection.exclusions.verifier import from_modhex, to_modhex
from objection.models import ERASED, Objection

BATCH = 5000  # queue rows settled per round (SQLite allows 32,766 bound values a statement)


class RotationIncomplete(RuntimeError):
    """Filings in force are still under another pseudonym key than the current one: a full
    export under the current key would miss them."""

    def __init__(self, count: int, key_id: str):
        super().__init__(f"{count} filing(s) in force not under key {key_id}")
        self.count = count
        self.key_id = key_id


@dataclass(frozen=True)
class Advance:
    """A new sequence: a delta, or a rebase (a full export only)."""

    sequence: int
    kind: str
    additions: int
    removals: int


def lock(session: Session) -> ExclusionState:
    """The state row, taken for this transaction: call it first in the transaction (SQLite
    must not have read before it writes). A second exporter waits here until the first
    commits, then reads the sequence it wrote."""
    take = update(ExclusionState).where(ExclusionState.id == 1).values(
        last_sequence=ExclusionState.last_sequence)
    if not session.execute(take).rowcount:
        session.execute(dialect_insert(session)(ExclusionState).values(
            id=1, last_sequence=0, key_id="", compacted_through=0, acknowledged_sequence=0)
            .on_conflict_do_nothing())
        session.execute(take)
    state = session.get(ExclusionState, 1, populate_existing=True)
    assert state is not None
    return state


def read_state(session: Session) -> ExclusionState | None:
    """The state without taking it (pages, health check)."""
    return session.get(ExclusionState, 1)


def filings_in_force(session: Session, key_id: str) -> int:
    """How many filings in force are under ``key_id`` (what a rebase would read)."""
    return int(session.scalar(select(func.count()).select_from(Objection).where(
        Objection.status.in_(IN_FORCE), Objection.pseudonym_key_id == key_id)) or 0)


def pending(session: Session) -> bool:
    return session.scalar(select(ExclusionQueueItem.id).limit(1)) is not None


def advance(session: Session, state: ExclusionState, *, key_id: str, now: datetime
            ) -> Advance | None:
    """Publish the changes waiting in the queue as the next sequence (None when the set did
    not move). ``state`` is the row ``lock`` took; flushes, never commits."""
    if state.key_id != key_id:
        return _rebase(session, state, key_id, now)
    if not pending(session):
        return None
    sequence = state.last_sequence + 1
    while True:
        taken = _take_batch(session)
        if not taken:
            break
        pairs = {(to_modhex(pseudonym), scope) for pseudonym, queued_key, scope in taken
                 if queued_key == key_id and pseudonym != ERASED}
        if pairs:
            _settle(session, pairs, key_id, sequence)
    additions, removals = counts(session, sequence)
    if not additions and not removals:
        # Nothing moved (a filing for a line already published, a filing and its withdrawal
        # between two exports): the filings met are covered by the last sequence.
        session.execute(update(Objection).where(Objection.exclusion_sequence == sequence)
                        .values(exclusion_sequence=state.last_sequence or None)
                        .execution_options(synchronize_session=False))
        return None
    state.last_sequence, state.changed_at = sequence, now
    session.flush()
    return Advance(sequence, "delta", additions, removals)


def counts(session: Session, sequence: int) -> tuple[int, int]:
    """(lines added, lines removed) at ``sequence``."""
    added = session.scalar(select(func.count()).select_from(ExclusionEntry)
                           .where(ExclusionEntry.added_in == sequence)) or 0
    removed = session.scalar(select(func.count()).select_from(ExclusionEntry)
                             .where(ExclusionEntry.removed_in == sequence)) or 0
    return int(added), int(removed)


def _take_batch(session: Session) -> list[tuple[str, str, str]]:
    """Delete the oldest queue rows and return them (person, key, scope)."""
    oldest = (select(ExclusionQueueItem.id).order_by(ExclusionQueueItem.id).limit(BATCH)
              .scalar_subquery())
    return [tuple(row) for row in session.execute(
        delete(ExclusionQueueItem).where(ExclusionQueueItem.id.in_(oldest))
        .returning(ExclusionQueueItem.pseudonym, ExclusionQueueItem.key_id,
                   ExclusionQueueItem.scope),
        execution_options={"synchronize_session": False})]


def _settle(session: Session, pairs: set[tuple[str, str]], key_id: str, sequence: int) -> None:
    """Bring each (pseudonym in modhex, scope) of ``pairs`` in line with the filings in force:
    add, remove, or revive a line removed earlier in this same sequence; tag the filings in
    force that no export covered yet with ``sequence``."""
    wanted: dict[tuple[str, str], datetime] = {}
    to_tag: list[int] = []
    hexes = {from_modhex(pseudonym) for pseudonym, _scope in pairs}
    for row in session.execute(
            select(Objection.id, Objection.pseudonym, Objection.scope,
                   Objection.project_reference, Objection.effective_from,
                   Objection.exclusion_sequence)
            .where(Objection.pseudonym.in_(hexes), Objection.pseudonym_key_id == key_id,
                   Objection.status.in_(IN_FORCE))):
        pair = (to_modhex(row.pseudonym), scope_of(row.scope, row.project_reference))
        if pair not in pairs:
            continue
        wanted[pair] = min(wanted.get(pair, row.effective_from), row.effective_from)
        if row.exclusion_sequence is None:
            to_tag.append(row.id)
    current: dict[tuple[str, str], ExclusionEntry] = {}
    revivable: dict[tuple[str, str], ExclusionEntry] = {}
    for entry in session.scalars(select(ExclusionEntry).where(
            ExclusionEntry.key_id == key_id,
            ExclusionEntry.pseudonym.in_({pseudonym for pseudonym, _ in pairs}),
            ExclusionEntry.removed_in.is_(None) | (ExclusionEntry.removed_in == sequence))):
        pair = (entry.pseudonym, entry.scope)
        (current if entry.removed_in is None else revivable)[pair] = entry
    new_lines = []
    for pair in sorted(pairs):
        have = current.get(pair)
        if pair in wanted and have is None:
            if pair in revivable:
                revivable[pair].removed_in = None
            else:
                new_lines.append({"key_id": key_id, "scope": pair[1], "pseudonym": pair[0],
                                  "effective_on": local_date(wanted[pair]).isoformat(),
                                  "added_in": sequence, "removed_in": None})
        elif pair not in wanted and have is not None:
            if have.added_in == sequence:
                session.delete(have)
            else:
                have.removed_in = sequence
    session.flush()
    if new_lines:
        session.execute(insert(ExclusionEntry), new_lines)
    if to_tag:
        session.execute(update(Objection).where(Objection.id.in_(to_tag))
                        .values(exclusion_sequence=sequence)
                        .execution_options(synchronize_session=False))


def _rebase(session: Session, state: ExclusionState, key_id: str, now: datetime
            ) -> Advance | None:
    """Rebuild the whole set under ``key_id`` as the next sequence (a full export): the lines
    of the previous key are removed by it, every filing in force gives its line. Nothing when
    the set is empty and was never published (no one has objected yet)."""
    stray = session.scalar(select(func.count()).select_from(Objection).where(
        Objection.status.in_(IN_FORCE), Objection.pseudonym_key_id != key_id,
        Objection.pseudonym != ERASED)) or 0
    if stray:
        raise RotationIncomplete(int(stray), key_id)
    published = session.scalar(select(ExclusionEntry.id).where(
        ExclusionEntry.removed_in.is_(None)).limit(1))
    in_force = session.scalar(select(Objection.id).where(
        Objection.status.in_(IN_FORCE), Objection.pseudonym_key_id == key_id).limit(1))
    if published is None and in_force is None:
        session.execute(delete(ExclusionQueueItem))  # an empty set stays unpublished
        return None
    sequence = state.last_sequence + 1
    # Queue first: a change committed after this statement keeps its row for the next export.
    session.execute(delete(ExclusionQueueItem))
    session.execute(update(Objection).where(
        Objection.status.in_(IN_FORCE), Objection.pseudonym_key_id == key_id,
        Objection.exclusion_sequence.is_(None)).values(exclusion_sequence=sequence)
        .execution_options(synchronize_session=False))
    session.execute(update(ExclusionEntry).where(ExclusionEntry.removed_in.is_(None))
                    .values(removed_in=sequence).execution_options(synchronize_session=False))
    scope = scope_column()
    # In the files' order: the table's rows then follow its index, which full exports read.
    lines = (select(literal(key_id), scope, modhex(Objection.pseudonym),
                    local_day(func.min(Objection.effective_from)), literal(sequence))
             .where(Objection.status.in_(IN_FORCE), Objection.pseudonym_key_id == key_id)
             .group_by(Objection.pseudonym, scope)
             .order_by(scope, modhex(Objection.pseudonym)))
    session.execute(insert(ExclusionEntry).from_select(
        ["key_id", "scope", "pseudonym", "effective_on", "added_in"], lines))
    additions = session.scalar(select(func.count()).select_from(ExclusionEntry).where(
        ExclusionEntry.added_in == sequence, ExclusionEntry.key_id == key_id)) or 0
    if session.get_bind().dialect.name == "postgresql":
        # The set changed wholesale: fresh statistics, so the full export is read in the
        # order of its index at once, not sorted (ANALYZE sees this transaction's rows).
        session.execute(text("ANALYZE exclusion_entries"))
    state.last_sequence, state.key_id, state.changed_at = sequence, key_id, now
    session.flush()
    return Advance(sequence, "full", int(additions), 0)
