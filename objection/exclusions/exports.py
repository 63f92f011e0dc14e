"""Exclusion files (docs/exclusion-format.md): the header, the sorted lines, the signature.

A file is made once per (sequence, kind): its body is streamed from the database into a spool
file (hashed and counted on the way, so memory stays bounded whatever the set's size), then its
header is written with the audit chain's head, and the whole file is signed. The header and the
signature are kept (``exclusion_exports``); the body is read again from ``exclusion_entries``
whenever the file is served, and comes out the same: lines are the set at that sequence, sorted
by scope then pseudonym, byte by byte, on both databases. On PostgreSQL the lines are built by
the database and read with ``COPY … TO STDOUT``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import Session

from objection.exclusions import signing
from objection.exclusions.models import ExclusionEntry, ExclusionExport
from objection.exclusions.verifier import NIR_SHAPE, Header, to_modhex
from staff import audit

CHUNK_ROWS = 5000
COPY_CHUNK = 1 << 16


class ExportGone(LookupError):
    """The lines of this file were forgotten (retention): the platform starts again from the
    latest full export."""


def file_name(sequence: int, kind: str) -> str:
    return f"exclusions-{sequence:08d}-{kind}.txt"


def moment_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def header_of(export: ExclusionExport) -> Header:
    return Header(sequence=export.sequence, previous=export.previous_sequence,
                  kind=export.kind, generated_at=moment_text(export.generated_at),
                  pseudonym_key=export.key_id, signing_key=export.signing_key,
                  lines=export.line_count, body_sha256=export.body_sha256,
                  audit_last_id=export.audit_last_id, audit_last_hash=export.audit_last_hash)


def find(session: Session, sequence: int, kind: str) -> ExclusionExport | None:
    return session.scalar(select(ExclusionExport).where(ExclusionExport.sequence == sequence,
                                                        ExclusionExport.kind == kind))


def chain_export(session: Session, sequence: int) -> ExclusionExport | None:
    """The file that takes the platform from ``sequence - 1`` to ``sequence``: the delta, or
    the full export when that sequence was a rebase (first export, new pseudonym key)."""
    return (find(session, sequence, "delta") or find(session, sequence, "full"))


# --------------------------------------------------------------------------- lines

def _line(sign: str):
    entry = ExclusionEntry
    return (literal(sign + ";") + entry.pseudonym + literal(";") + entry.scope + literal(";")
            + entry.effective_on).label("line")


def lines_query(kind: str, sequence: int, key_id: str) -> Select:
    """One text column, ``line``, in the file's order: for a full export the set at
    ``sequence`` (the lines still current, and those removed since); for a delta the lines it
    added ("+") and removed ("-"). (PostgreSQL reads the same lines with ``COPY``, below.)"""
    entry = ExclusionEntry
    if kind == "full":
        current = select(_line("+"), entry.scope, entry.pseudonym).where(
            entry.key_id == key_id, entry.removed_in.is_(None), entry.added_in <= sequence)
        removed_since = select(_line("+"), entry.scope, entry.pseudonym).where(
            entry.key_id == key_id, entry.removed_in > sequence, entry.added_in <= sequence)
        parts = union_all(current, removed_since).subquery()
    else:
        added = select(_line("+"), entry.scope, entry.pseudonym).where(
            entry.key_id == key_id, entry.added_in == sequence)
        removed = select(_line("-"), entry.scope, entry.pseudonym).where(
            entry.key_id == key_id, entry.removed_in == sequence)
        parts = union_all(added, removed).subquery()
    # A person and scope is at most once in a file: scope and pseudonym order every line.
    return select(parts.c.line).order_by(parts.c.scope, parts.c.pseudonym)


# PostgreSQL writes the lines itself: ``COPY … TO STDOUT`` with ``;`` between the fields gives
# ``sign;pseudonym;scope;date`` (no field holds a ``;``, a tab or a backslash). Each part is
# ordered by the current lines' unique index, which PostgreSQL merges (no sort of the set).
_POSTGRES_FULL = """COPY (SELECT sign, pseudonym, scope, effective_on FROM (
    (SELECT '+' AS sign, pseudonym, scope, effective_on FROM exclusion_entries
     WHERE key_id = {key} AND removed_in IS NULL AND added_in <= {sequence}
     ORDER BY scope, pseudonym)
    UNION ALL
    (SELECT '+', pseudonym, scope, effective_on FROM exclusion_entries
     WHERE key_id = {key} AND removed_in > {sequence} AND added_in <= {sequence}
     ORDER BY scope, pseudonym)) AS lines ORDER BY scope, pseudonym)
    TO STDOUT WITH (DELIMITER ';')"""
_POSTGRES_DELTA = """COPY (SELECT sign, pseudonym, scope, effective_on FROM (
    SELECT '+' AS sign, pseudonym, scope, effective_on FROM exclusion_entries
    WHERE key_id = {key} AND added_in = {sequence}
    UNION ALL
    SELECT '-', pseudonym, scope, effective_on FROM exclusion_entries
    WHERE key_id = {key} AND removed_in = {sequence}) AS lines ORDER BY scope, pseudonym)
    TO STDOUT WITH (DELIMITER ';')"""
COPY_BATCH = 2000  # rows joined into one chunk (COPY hands them over one by one)


def body_chunks(session: Session, kind: str, sequence: int, key_id: str
                ) -> Iterator[bytes]:
    """The body's bytes, in chunks, straight from the database."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from psycopg import sql

        statement = sql.SQL(_POSTGRES_FULL if kind == "full" else _POSTGRES_DELTA).format(
            key=sql.Literal(key_id), sequence=sql.Literal(int(sequence)))
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            rows: list[bytes] = []
            for row in copy:
                rows.append(bytes(row))
                if len(rows) >= COPY_BATCH:
                    yield b"".join(rows)
                    rows = []
            if rows:
                yield b"".join(rows)
        return
    result = connection.execution_options(stream_results=True).execute(
        lines_query(kind, sequence, key_id))
    for rows in result.partitions(CHUNK_ROWS):
        yield "".join(row[0] + "\n" for row in rows).encode("ascii")


# --------------------------------------------------------------------------- making a file

@dataclass
class Spooled:
    """A body written aside while it was hashed and counted."""

    handle: IO[bytes]
    size: int
    lines: int
    sha256: str  # hexadecimal

    def chunks(self) -> Iterator[bytes]:
        self.handle.seek(0)
        while chunk := self.handle.read(COPY_CHUNK):
            yield chunk

    def close(self) -> None:
        self.handle.close()


def spool_body(session: Session, kind: str, sequence: int, key_id: str,
               progress: Callable[[int], None] | None = None) -> Spooled:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by Spooled.close
    digest, size, lines = hashlib.sha256(), 0, 0
    try:
        for chunk in body_chunks(session, kind, sequence, key_id):
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            count = chunk.count(b"\n")
            lines += count
            if progress is not None:
                progress(count)
    except BaseException:
        handle.close()
        raise
    return Spooled(handle, size, lines, digest.hexdigest())


def create(session: Session, sequence: int, kind: str, *, key_id: str, now: datetime,
           actor: str, additions: int = 0, removals: int = 0,
           progress: Callable[[int], None] | None = None) -> tuple[ExclusionExport, Spooled]:
    """Make the file of ``sequence`` (``kind``): spool its body, record the generation in the
    audit trail, write the header with the chain's head (which includes that event), sign
    the whole file, keep header and signature. Returns the export and its spooled body (the
    caller serves or writes it, then closes it). Flushes, never commits."""
    spooled = spool_body(session, kind, sequence, key_id, progress)
    try:
        if kind == "full":
            additions, removals = spooled.lines, 0
        audit.record(session, "exclusions.generated", actor=actor,
                     target=f"exclusions:{sequence}", at=now,
                     detail={"kind": kind, "lines": spooled.lines, "additions": additions,
                             "removals": removals})
        last_id, last_hash = audit.head(session)
        export = ExclusionExport(
            sequence=sequence, kind=kind, previous_sequence=sequence - 1, key_id=key_id,
            generated_at=now.replace(microsecond=0), line_count=spooled.lines,
            additions=additions, removals=removals, body_bytes=spooled.size,
            body_sha256=to_modhex(spooled.sha256), audit_last_id=last_id,
            audit_last_hash=to_modhex(last_hash), signing_key=signing.key_fingerprint(),
            signature="")
        header = header_of(export).text().encode("ascii")
        if NIR_SHAPE.search(header.decode("ascii")):
            raise ValueError("a header would look like a NIR")  # a key id made of digits
        file_digest = hashlib.sha256(header)
        for chunk in spooled.chunks():
            file_digest.update(chunk)
        export.signature = signing.sign(file_digest.digest())
        session.add(export)
        session.flush()
    except BaseException:
        spooled.close()
        raise
    return export, spooled


def file_chunks(session: Session, export: ExclusionExport,
                spooled: Spooled | None = None) -> Iterator[bytes]:
    """The whole file: header, then the body (spooled when just made, else from the
    database)."""
    yield header_of(export).text().encode("ascii")
    if spooled is not None:
        yield from spooled.chunks()
    else:
        yield from body_chunks(session, export.kind, export.sequence, export.key_id)


def file_size(export: ExclusionExport) -> int:
    return len(header_of(export).text()) + export.body_bytes


def write_files(session: Session, export: ExclusionExport, directory: Path,
                spooled: Spooled | None = None,
                progress: Callable[[int], None] | None = None) -> Path:
    """``FILE`` and ``FILE.sig`` in ``directory``, each written aside then renamed (never a
    half-written file under its name)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file_name(export.sequence, export.kind)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("wb") as out:
            for chunk in file_chunks(session, export, spooled):
                out.write(chunk)
                if progress is not None:
                    progress(chunk.count(b"\n"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    signature = target.with_name(target.name + ".sig")
    signature.write_text(f"ed25519 {export.signing_key} {export.signature}\n", "ascii")
    return target
