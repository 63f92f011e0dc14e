"""The cohort check: which of a project's cohort must be removed before an extraction.

The platform sends the cohort as pseudonyms (the same keyed hash as in the exclusion lists,
computed by the platform, in modhex, one per line); the answer lists those with a general
objection or one to this project, in the order received, as the published set stands at one
sequence (said in the answer). The cohort is read in chunks from the request; on PostgreSQL it
is copied into a temporary table and matched against the set in one statement, on SQLite each
chunk is looked up in the current lines' index. The answer is written to a spool file: memory
stays bounded for millions of pseudonyms, and a malformed line anywhere gets a 400 before any
answer is sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy import ARRAY, String, any_, bindparam, select, union_all
from sqlalchemy.orm import Session

from objection.exclusions.models import GENERAL_SCOPE, ExclusionEntry
from objection.exclusions.verifier import PSEUDONYM

MAGIC = "HDH-COHORT-CHECK 1"
LOOKUP = 5000  # pseudonyms per query
READ = 1 << 20  # bytes read from the request at a time
MAX_LINE = 200


class CohortError(ValueError):
    """A cohort that cannot be checked (a malformed line), with the line's number."""


@dataclass
class CohortAnswer:
    project: str
    sequence: int
    key_id: str
    checked: int
    to_remove: int
    spool: IO[bytes]

    def header(self) -> bytes:
        return (f"{MAGIC}\nproject: {self.project}\nsequence: {self.sequence}\n"
                f"pseudonym-key: {self.key_id}\nchecked: {self.checked}\n"
                f"to-remove: {self.to_remove}\n\n").encode("ascii")

    def chunks(self) -> Iterator[bytes]:
        yield self.header()
        self.spool.seek(0)
        while chunk := self.spool.read(READ):
            yield chunk
        self.spool.close()


def lines_of(stream: IO[bytes]) -> Iterator[str]:
    """The request body's lines (``\\n`` or ``\\r\\n``), read in chunks; empty lines skipped."""
    carry = b""
    while True:
        chunk = stream.read(READ)
        if not chunk:
            break
        parts = (carry + chunk).split(b"\n")
        carry = parts.pop()
        if len(carry) > MAX_LINE:
            raise CohortError("une ligne est trop longue")
        for part in parts:
            if part.strip():
                yield part.rstrip(b"\r").decode("ascii", "replace")
    if carry.strip():
        yield carry.rstrip(b"\r").decode("ascii", "replace")


def _lookup(session: Session, chunk: list[str], project: str, sequence: int,
            key_id: str) -> set[str]:
    """Those of ``chunk`` with a line for ``ALL`` or ``project`` in the set at ``sequence``:
    the current lines (their unique index answers each pseudonym), and the few removed
    since."""
    entry = ExclusionEntry
    if session.get_bind().dialect.name == "postgresql":
        among = entry.pseudonym == any_(bindparam("cohort", chunk, type_=ARRAY(String)))
    else:
        among = entry.pseudonym.in_(chunk)
    common = (entry.key_id == key_id, entry.scope.in_((GENERAL_SCOPE, project)), among,
              entry.added_in <= sequence)
    current = select(entry.pseudonym).where(*common, entry.removed_in.is_(None))
    removed_since = select(entry.pseudonym).where(*common, entry.removed_in > sequence)
    return set(session.scalars(union_all(current, removed_since)))


def check(session: Session, project: str, pseudonyms: Iterable[str], *, sequence: int,
          key_id: str) -> CohortAnswer:
    """Those of ``pseudonyms`` to remove for ``project`` as the set stood at ``sequence``.
    Raises CohortError on the first malformed line."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by CohortAnswer.chunks
    try:
        if session.get_bind().dialect.name == "postgresql":
            checked, removed = _check_in_postgres(session, project, pseudonyms, sequence,
                                                  key_id, spool)
        else:
            checked, removed = _check_in_chunks(session, project, pseudonyms, sequence,
                                                key_id, spool)
    except BaseException:
        spool.close()
        raise
    return CohortAnswer(project, sequence, key_id, checked, removed, spool)


def _valid(pseudonyms: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(pseudonyms, start=1):
        if not PSEUDONYM.fullmatch(line):
            raise CohortError(f"ligne {number} : un pseudonyme s'écrit en 64 lettres "
                              "(cbdefghijklnrtuv)")
        yield line


def _check_in_chunks(session: Session, project: str, pseudonyms: Iterable[str],
                     sequence: int, key_id: str, spool: IO[bytes]) -> tuple[int, int]:
    """Each chunk looked up in the current lines' index (SQLite: in-process, fast)."""
    checked = removed = 0
    chunk: list[str] = []

    def flush() -> int:
        found = _lookup(session, chunk, project, sequence, key_id)
        kept = [p for p in chunk if p in found]
        spool.write("".join(p + "\n" for p in kept).encode("ascii"))
        return len(kept)

    for line in _valid(pseudonyms):
        chunk.append(line)
        checked += 1
        if len(chunk) >= LOOKUP:
            removed += flush()
            chunk = []
    if chunk:
        removed += flush()
    return checked, removed


_POSTGRES_MATCHES = """COPY (SELECT c.pseudonym FROM cohort_check AS c WHERE EXISTS (
    SELECT 1 FROM exclusion_entries AS e WHERE e.pseudonym = c.pseudonym
    AND e.key_id = {key} AND e.scope IN ('ALL', {project}) AND e.added_in <= {sequence}
    AND (e.removed_in IS NULL OR e.removed_in > {sequence})) ORDER BY c.number) TO STDOUT"""


def _check_in_postgres(session: Session, project: str, pseudonyms: Iterable[str],
                       sequence: int, key_id: str, spool: IO[bytes]) -> tuple[int, int]:
    """The cohort copied into a temporary table (``COPY … FROM STDIN``), then one semi-join
    with the set, its answer read with ``COPY … TO STDOUT``: a round trip per million, not
    per chunk. The table goes with the transaction."""
    from psycopg import sql

    raw = session.connection().connection.driver_connection
    checked = 0
    with raw.cursor() as cursor:
        cursor.execute('CREATE TEMPORARY TABLE cohort_check (number bigint, '
                       'pseudonym varchar(64) COLLATE "C") ON COMMIT DROP')
        with cursor.copy("COPY cohort_check (number, pseudonym) FROM STDIN") as copy:
            rows: list[str] = []
            for line in _valid(pseudonyms):
                checked += 1
                rows.append(f"{checked}\t{line}\n")
                if len(rows) >= LOOKUP:
                    copy.write("".join(rows))
                    rows = []
            if rows:
                copy.write("".join(rows))
        cursor.execute("ANALYZE cohort_check")
        removed = 0
        statement = sql.SQL(_POSTGRES_MATCHES).format(
            key=sql.Literal(key_id), project=sql.Literal(project),
            sequence=sql.Literal(int(sequence)))
        with cursor.copy(statement) as copy:
            for row in copy:
                spool.write(row)
                removed += 1
    return checked, removed
