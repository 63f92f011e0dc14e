"""Letters, for people who gave a postal address instead of an e-mail address (the paper form,
the telephone, or the web form without e-mail): the address, kept encrypted while the filing
needs it, and the letters staff print and post (receipt, status changes, withdrawal). A letter
says exactly what the mail would (``mail.compose``), never the follow-up code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import utcnow
from core.database import Base, UTCDateTime, dialect_insert
from objection.keys import sealer
from objection.mail import compose
from objection.models import Objection

MAX_LINES = 6
MAX_LENGTH = 300


class PostalAddress(Base):
    """Where to post a filing's letters (encrypted: it names the person); erased with the
    filing (``retention``)."""

    __tablename__ = "objection_postal_addresses"

    objection_id: Mapped[int] = mapped_column(
        ForeignKey("objections.id", ondelete="CASCADE"), primary_key=True)
    address_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Letter(Base):
    """A letter to print and post; one per event, like mails. ``printed_at``: posted."""

    __tablename__ = "objection_letters"
    __table_args__ = (UniqueConstraint("objection_id", "kind", "dedup",
                                       name="one_letter_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id", ondelete="CASCADE"),
                                              index=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedup: Mapped[str] = mapped_column(String(40), default="")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    printed_by: Mapped[str] = mapped_column(String(80), default="")


def normalise_address(text: str) -> str:
    """The address as lines: trimmed, blank lines dropped."""
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line)


def keep_address(session: Session, objection: Objection, address: str) -> None:
    session.add(PostalAddress(objection_id=objection.id,
                              address_sealed=sealer().seal_text(address, "postal-address")))
    session.flush()


def address_of(session: Session, objection: Objection) -> str:
    """The filing's postal address ("" when none)."""
    row = session.get(PostalAddress, objection.id)
    return sealer().open_text(row.address_sealed, "postal-address") if row else ""


def queue(session: Session, objection: Objection, kind: str, *, now: datetime,
          dedup: str = "") -> bool:
    """Add a letter to print, once per event (``ON CONFLICT DO NOTHING``)."""
    subject, body = compose(objection, kind)
    added = session.scalar(
        dialect_insert(session)(Letter)
        .values(objection_id=objection.id, kind=kind, dedup=dedup, subject=subject, body=body,
                created_at=now, printed_by="")
        .on_conflict_do_nothing().returning(Letter.id))
    return added is not None


def to_print(session: Session) -> list[Letter]:
    """Letters not posted yet, oldest first."""
    return list(session.scalars(select(Letter).where(Letter.printed_at.is_(None))
                                .order_by(Letter.created_at, Letter.id)))


def mark_printed(session: Session, letter: Letter, *, by: str,
                 now: datetime | None = None) -> None:
    if letter.printed_at is None:
        letter.printed_at, letter.printed_by = now or utcnow(), by
        session.flush()
