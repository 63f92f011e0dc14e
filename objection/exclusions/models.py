"""Tables of the exclusion feed. No column holds a NIR, a name or an e-mail address: lines hold
pseudonyms (keyed hashes, written in modhex as in the files), exports hold counts and hashes.

* ``exclusion_state``: one row, the published set's last sequence and pseudonym key; exports
  take it with an ``UPDATE`` first, so one export runs at a time (database-guarded).
* ``exclusion_queue``: the person and scope of every change that may move the set, written by
  triggers on ``objections`` (migration 0008) whatever code made the change; an export consumes
  it.
* ``exclusion_entries``: every line ever published, with the sequence that added it and the one
  that removed it: the state at any sequence, a delta and a full export are all read from here,
  so the same state always gives the same bytes.
* ``exclusion_exports``: each file's header (sequence, kind, key, hashes, audit head), its
  signature and when the platform pulled and acknowledged it.
* ``platform_tokens``, ``platform_extractions``: the platform's API tokens (hashed) and its
  reports of extractions made for a project.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.database import Base, UTCDateTime
from objection.models import ObjectionStatus

#: The statuses of a filing the platform must apply (``to_review`` is not in force yet).
IN_FORCE = (ObjectionStatus.RECEIVED, ObjectionStatus.VERIFIED, ObjectionStatus.SENT,
            ObjectionStatus.APPLIED)
#: In force and not yet pulled / acknowledged by the platform.
NOT_SENT = (ObjectionStatus.RECEIVED, ObjectionStatus.VERIFIED)
GENERAL_SCOPE = "ALL"  #: the scope written for a general objection


def _bytewise(length: int) -> String:
    """Text compared byte by byte on every database (PostgreSQL's ``C`` collation), so the
    order of lines is the same everywhere and an index gives it."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class ExclusionState(Base):
    __tablename__ = "exclusion_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    key_id: Mapped[str] = mapped_column(String(32), default="")
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Removed lines of sequences up to this one are forgotten (retention): their deltas, and
    #: full exports before it, can no longer be served.
    compacted_through: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_sequence: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExclusionQueueItem(Base):
    __tablename__ = "exclusion_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))  # hexadecimal, as in ``objections``
    key_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(13))


class ExclusionEntry(Base):
    __tablename__ = "exclusion_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(_bytewise(32))
    scope: Mapped[str] = mapped_column(_bytewise(13))
    pseudonym: Mapped[str] = mapped_column(_bytewise(64))  # modhex
    effective_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, as written
    added_in: Mapped[int] = mapped_column(Integer, index=True)
    removed_in: Mapped[int | None] = mapped_column(Integer, index=True)


# One line per person and scope in the current set; the index also gives the files' order.
Index("uq_exclusion_entries_current", ExclusionEntry.key_id, ExclusionEntry.scope,
      ExclusionEntry.pseudonym, unique=True, sqlite_where=text("removed_in IS NULL"),
      postgresql_where=text("removed_in IS NULL"))


class ExclusionExport(Base):
    __tablename__ = "exclusion_exports"
    __table_args__ = (UniqueConstraint("sequence", "kind", name="uq_exclusion_exports_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(5))  # full | delta
    previous_sequence: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(32))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    line_count: Mapped[int] = mapped_column(Integer)
    additions: Mapped[int] = mapped_column(Integer, default=0)
    removals: Mapped[int] = mapped_column(Integer, default=0)
    body_bytes: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    body_sha256: Mapped[str] = mapped_column(String(64))  # modhex, as in the header
    audit_last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    audit_last_hash: Mapped[str] = mapped_column(String(64))  # modhex
    signing_key: Mapped[str] = mapped_column(String(32))  # fingerprint (modhex)
    signature: Mapped[str] = mapped_column(String(128))  # modhex
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlatformToken(Base):
    """A bearer token of the platform's API: only its SHA-256 is kept (it is 256 random bits,
    shown once), with who made it and whether it is revoked."""

    __tablename__ = "platform_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str] = mapped_column(String(80), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlatformExtraction(Base):
    """The platform extracted data for a project on a day, applying exclusion list
    ``exclusion_sequence``: the proof shown on the project's page and on follow-up pages."""

    __tablename__ = "platform_extractions"
    __table_args__ = (UniqueConstraint("project_reference", "extracted_on",
                                       "exclusion_sequence", name="uq_platform_extractions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_reference: Mapped[str] = mapped_column(String(13), index=True)
    extracted_on: Mapped[date] = mapped_column(Date)
    exclusion_sequence: Mapped[int] = mapped_column(Integer, index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by: Mapped[str] = mapped_column(String(80))
