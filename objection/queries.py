"""Reading objections: a filing already made with a form, a person's objection in force, what
the follow-up page shows, the filings staff must review. Nothing here writes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import add_months, local_date, utcnow
from objection.identity import Nir
from objection.keys import keyring
from objection.models import (
    ACTIVE_STATUSES,
    KEPT_AFTER_WITHDRAWAL_MONTHS,
    Filer,
    Objection,
    ObjectionEvent,
    ObjectionStatus,
    Scope,
)
from objection.references import Submission


@dataclass(frozen=True)
class Filing:
    """A filed objection and the follow-up code to show on its receipt."""

    objection: Objection
    followup_code: str


def find_filing(session: Session, submission: Submission) -> Filing | None:
    """The filing already made with this form and these answers, if any: a form sent again
    (double click, a browser retry) gets the same receipt without being checked again, so a
    supporting document deleted after the first filing is not asked for twice."""
    existing = session.scalar(select(Objection).where(
        Objection.submission_hash == submission.hash))
    return Filing(existing, submission.followup_code) if existing else None


def get_by_reference(session: Session, reference: str) -> Objection | None:
    return session.scalar(select(Objection).where(Objection.reference == reference))


def active_objection(session: Session, nir: Nir, scope: Scope,
                     project_reference: str | None) -> Objection | None:
    """The person's primary active filing for this scope, whatever key made its pseudonym."""
    pseudonyms = {p for _, p in keyring().candidates(nir.value)}
    return primary_among(session, pseudonyms, scope, project_reference)


def primary_among(session: Session, pseudonyms: set[str], scope: Scope,
                   project_reference: str | None,
                   excluding: Collection[int] = ()) -> Objection | None:
    """The oldest active, unlinked filing for this scope under one of ``pseudonyms``."""
    statement = select(Objection).where(
        Objection.pseudonym.in_(pseudonyms), Objection.scope == scope,
        Objection.status.in_(list(ACTIVE_STATUSES)), Objection.linked_to_id.is_(None))
    if excluding:
        statement = statement.where(Objection.id.not_in(excluding))
    if scope == Scope.PROJECT:
        statement = statement.where(Objection.project_reference == project_reference)
    return session.scalars(statement.order_by(Objection.id)).first()


PUBLIC_ACTIONS = {"filed", "verified", "sent_to_platform", "applied", "withdrawn", "rejected"}


def timeline(objection: Objection) -> list[ObjectionEvent]:
    """The steps a citizen sees on the follow-up page."""
    return [e for e in objection.events if e.action in PUBLIC_ACTIONS]


def can_withdraw(objection: Objection) -> bool:
    return objection.status in ACTIVE_STATUSES


# --------------------------------------------------------------------------- staff review

@dataclass(frozen=True)
class ReviewItem:
    """One filing staff must look at: what to do, never who it is about."""

    reference: str
    status: str
    filed_on: date
    reason: str


def filings_to_review(session: Session, *, now: datetime | None = None) -> list[ReviewItem]:
    """Filings waiting for staff, oldest first, until the back-office lists them: proxy filings
    whose document must be checked (``to_review``; the answer is due one month after receipt)
    and withdrawals of linked filings (``withdrawal_review``: staff decide whether the
    person's objection as a whole is lifted). Only references, statuses, dates and reasons:
    no identity, e-mail address or pseudonym."""
    now = now or utcnow()
    today = local_date(now)
    items = []
    for objection in session.scalars(select(Objection).where(
            (Objection.status == ObjectionStatus.TO_REVIEW)
            | Objection.withdrawal_review.is_(True)).order_by(Objection.created_at,
                                                               Objection.id)):
        if objection.status == ObjectionStatus.TO_REVIEW:
            who = ("un parent pour son enfant mineur" if objection.filer == Filer.CHILD
                   else "un représentant (tutelle, curatelle, mandat)")
            late = " — EN RETARD" if objection.answer_due_on < today else ""
            reason = (f"demande faite par {who} : vérifier le justificatif ; réponse due le "
                      f"{objection.answer_due_on.isoformat()}{late}")
        else:
            primary = objection.linked_to.reference if objection.linked_to else "?"
            withdrawn_on = local_date(objection.status_changed_at)
            reason = (f"retrait d'une demande liée à {primary}, le {withdrawn_on.isoformat()} : "
                      "décider si l'opposition de la personne est levée")
            if add_months(withdrawn_on, KEPT_AFTER_WITHDRAWAL_MONTHS) <= today:
                reason += " ; effacement (un an après le retrait) en attente de cette décision"
        items.append(ReviewItem(objection.reference, str(objection.status),
                                local_date(objection.created_at), reason))
    return items


DUE_SOON_DAYS = 7  # the queue warns this many days before the legal answer date


@dataclass(frozen=True)
class QueueEntry:
    """A line of staff's review queue: the filing, what to decide, by when."""

    objection: Objection
    kind: str  # "document" (a proxy filing to check) or "withdrawal" (a linked withdrawal)
    due_on: date
    days_left: int

    @property
    def late(self) -> bool:
        return self.days_left < 0

    @property
    def due_soon(self) -> bool:
        return 0 <= self.days_left <= DUE_SOON_DAYS


def review_queue(session: Session, *, now: datetime | None = None) -> list[QueueEntry]:
    """What staff must review, oldest first, with the legal answer date (one month after
    receipt, GDPR art. 12(3); for a withdrawal review, one month after the withdrawal)."""
    today = local_date(now or utcnow())
    entries = []
    for objection in session.scalars(select(Objection).where(
            (Objection.status == ObjectionStatus.TO_REVIEW)
            | Objection.withdrawal_review.is_(True)).order_by(Objection.created_at,
                                                               Objection.id)):
        if objection.status == ObjectionStatus.TO_REVIEW:
            kind, due = "document", objection.answer_due_on
        else:
            kind, due = "withdrawal", add_months(local_date(objection.status_changed_at), 1)
        entries.append(QueueEntry(objection, kind, due, (due - today).days))
    return entries
