"""Tables of the objection process. Only the package's writing modules (``service``,
``followup``, ``retention``, and ``mail`` for the outbox) write them. No column ever holds a
NIR, a name or a birth date in clear."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.database import Base, UTCDateTime, string_enum


class ObjectionStatus(enum.StrEnum):
    RECEIVED = "received"                  #: filed by the person; checks passed
    TO_REVIEW = "to_review"                #: filed for someone else: staff check the document
    VERIFIED = "verified"                  #: checked, waiting for the next exclusion list
    SENT = "sent_to_platform"              #: in an exclusion list the platform pulled
    APPLIED = "applied"                    #: the platform acknowledged that list
    WITHDRAWN = "withdrawn"                #: this filing is lifted; effective in the next list
    REJECTED = "rejected"                  #: refused after review, with a reason

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.value])

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({ObjectionStatus.RECEIVED, ObjectionStatus.TO_REVIEW,
                             ObjectionStatus.VERIFIED, ObjectionStatus.SENT,
                             ObjectionStatus.APPLIED})
STATUS_LABELS = {
    "received": _l("Reçue"),
    "to_review": _l("En cours de vérification"),
    "verified": _l("Vérifiée"),
    "sent_to_platform": _l("Transmise à la plateforme"),
    "applied": _l("Appliquée par la plateforme"),
    "withdrawn": _l("Retirée"),
    "rejected": _l("Refusée"),
}


# Retention (docs/objection.md): a withdrawn filing is erased a year after its withdrawal,
# keeping only what the statistics count; its pseudonym becomes ERASED.
KEPT_AFTER_WITHDRAWAL_MONTHS = 12  # form.html and the privacy page: "un an après son retrait"
ERASED = "erased"  #: the pseudonym of an erased filing (a real one is 64 hex digits)


class Filer(enum.StrEnum):
    SELF = "self"                #: the person objects for themselves
    CHILD = "child"              #: a parent for their minor child
    REPRESENTED = "represented"  #: a guardian, curator or mandated person


class Scope(enum.StrEnum):
    GENERAL = "general"   #: all reuse of the person's data for research
    PROJECT = "project"   #: one project of the register


class Objection(Base):
    """One filing. A person's objection for a scope is in force while any of their filings for
    that scope is active; the first active filing is the *primary* one, later filings are linked
    to it (``linked_to``) and look exactly the same to whoever made them."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    followup_hash: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the form's one-time token and of what was filed: the same form sent twice is
    # one filing; the token itself is never stored (the follow-up code is derived from it).
    submission_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    pseudonym_key_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[Scope] = mapped_column(string_enum(Scope, "objection_scope", length=30))
    project_reference: Mapped[str | None] = mapped_column(String(13), index=True)
    filer: Mapped[Filer] = mapped_column(string_enum(Filer, "objection_filer", length=30))
    status: Mapped[ObjectionStatus] = mapped_column(
        string_enum(ObjectionStatus, "objection_status", length=30), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    lang: Mapped[str] = mapped_column(String(5), default="fr")
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("objections.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer_due_on: Mapped[date] = mapped_column(Date)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # Withdrawn through a linked filing: staff decide whether the person's objection as a whole
    # is lifted (the primary filing stays in force meanwhile). Never shown to the filer.
    withdrawal_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Encrypted (AES-GCM); identity and document only until the review is done.
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_path: Mapped[str | None] = mapped_column(String(200))
    # Coarse, non-identifying facts for public statistics.
    month_filed: Mapped[str] = mapped_column(String(7), index=True)
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(1))
    # Follow-up look-ups: lock-out after repeated wrong codes.
    failed_lookups: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The NIR sealed to the offline escrow key (X25519, ``objection.exclusions.escrow``): the
    # server cannot open it; a key rotation run holding the private key re-pseudonymises.
    nir_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The first exclusion export whose state covers this filing (``objection.exclusions``):
    # set when it is exported, moves it to ``sent_to_platform`` and ``applied``.
    exclusion_sequence: Mapped[int | None] = mapped_column(Integer, index=True)

    events: Mapped[list[ObjectionEvent]] = relationship(
        back_populates="objection", order_by="ObjectionEvent.id", cascade="all, delete-orphan")
    linked_to: Mapped[Objection | None] = relationship(remote_side=[id])

    def record(self, action: str, *, by: str, at: datetime, detail: str = "") -> None:
        """Add an event to the audit trail, with the status the objection has now."""
        self.events.append(ObjectionEvent(action=action, status=str(self.status), by=by, at=at,
                                          detail=detail))


# At most one primary active filing per person and scope, even when two filings race: the
# loser's insert does nothing (ON CONFLICT DO NOTHING, ``service._insert_objection``; no
# duplicate-key error, whose message would put the pseudonym in the database's log) and it is
# filed again, as a filing linked to the winner's. The project reference is coalesced because
# NULLs never collide in a unique index (general objections have none).
ONE_ACTIVE_PER_SCOPE_WHERE = (
    "linked_to_id IS NULL AND status IN ("
    + ", ".join(f"'{status.value}'" for status in sorted(ACTIVE_STATUSES)) + ")")
Index("uq_objections_one_active_per_scope", Objection.pseudonym, Objection.scope,
      func.coalesce(Objection.project_reference, ""), unique=True,
      sqlite_where=text(ONE_ACTIVE_PER_SCOPE_WHERE),
      postgresql_where=text(ONE_ACTIVE_PER_SCOPE_WHERE))


# Filings in force that no export covers yet: the freshness check reads the oldest one.
AWAITING_EXPORT_WHERE = ("exclusion_sequence IS NULL AND status IN ('received', 'verified')")
Index("ix_objections_awaiting_export", Objection.status_changed_at,
      sqlite_where=text(AWAITING_EXPORT_WHERE), postgresql_where=text(AWAITING_EXPORT_WHERE))


class ObjectionEvent(Base):
    """The audit trail: what happened to an objection, when, and who did it (no personal data)."""

    __tablename__ = "objection_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"),
                                              index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    by: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(Text, default="")

    objection: Mapped[Objection] = relationship(back_populates="events")


class OutboxMail(Base):
    """A mail to send. Written in the same transaction as the change it announces, sent later
    by ``flask outbox send`` with retries, so a mail server outage never loses an objection."""

    __tablename__ = "outbox_mails"
    __table_args__ = (UniqueConstraint("objection_id", "kind", "dedup", name="one_mail_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int | None] = mapped_column(
        ForeignKey("objections.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedup: Mapped[str] = mapped_column(String(40), default="")
    recipient_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")


class FilingCount(Base):
    """Filings by month filed, age band and sex, counted as they are filed (same transaction):
    the public statistics read a few dozen rows instead of grouping every filing. Filings are
    never deleted and the yearly erasure keeps these three facts, so the counts never go
    down."""

    __tablename__ = "objection_filing_counts"

    month_filed: Mapped[str] = mapped_column(String(7), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(8), primary_key=True)
    sex: Mapped[str] = mapped_column(String(1), primary_key=True)
    filings: Mapped[int] = mapped_column(Integer, default=0)
