"""What is kept, and for how long: identities and documents only until the review is done;
documents of forms never sent, four hours (an hour when another form needs room); a withdrawn
filing, a year after its withdrawal, and a rejected one, a year after its rejection (time to
contest the decision); then it is erased but for the coarse facts the statistics count
(docs/objection.md)."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.clock import add_months, local_date, start_of_local_day, utcnow
from objection import documents
from objection.followup import FollowUpFailure
from objection.letters import Letter, PostalAddress
from objection.models import (
    ERASED,
    KEPT_AFTER_WITHDRAWAL_MONTHS,
    Objection,
    ObjectionEvent,
    ObjectionStatus,
    OutboxMail,
)
from objection.queries import primary_among
from objection.references import hash_code

KEPT_AFTER_REJECTION_MONTHS = 12  # then a rejected filing is erased like a withdrawn one


def purge_identity(objection: Objection) -> None:
    """Forget the encrypted identity and the document once no review needs them."""
    objection.identity_sealed = None
    if objection.document_path:
        documents.delete(objection.document_path)
        objection.document_path = None


def purge_reviewed(session: Session, *, now: datetime | None = None,
                   pending_max_age: timedelta = timedelta(hours=4)) -> tuple[int, int]:
    """Forget identities and documents that no review needs any more, and documents that no
    filing holds: forms never sent, filings that never committed (older than
    ``pending_max_age``, the life of a form). Returns (identities purged, documents deleted)."""
    now = now or utcnow()
    purged = 0
    for objection in session.scalars(select(Objection).where(
            Objection.identity_sealed.is_not(None) | Objection.document_path.is_not(None),
            Objection.status != ObjectionStatus.TO_REVIEW)):
        purge_identity(objection)
        purged += 1
    session.flush()
    kept = set(session.scalars(select(Objection.document_path)
                               .where(Objection.document_path.is_not(None))))
    return purged, documents.delete_orphans(kept, now, pending_max_age)




def is_erased(objection: Objection) -> bool:
    return objection.pseudonym == ERASED


ERASED_REFERENCE = "[demande effacée]"  #: what other rows say instead of an erased reference


def _forget_links_to(session: Session, erased: Objection) -> None:
    """The person's other filings must not name the erased one, or its row could still be tied
    to their pseudonym: filings linked to it (a rejected or withdrawn repeat filing) are linked
    to the person's objection in force instead (a pending withdrawal review then names that
    one), or to nothing when none is in force; an active filing still linked to it (none
    should be) becomes the primary one when there is no other. Its reference is replaced in
    other filings' audit details (``became_primary after=…``, ``withdrawal_review_requested
    primary=…``), rejection reasons and mails."""
    pattern = re.compile(re.escape(erased.reference), re.IGNORECASE)
    dependants = list(session.scalars(select(Objection).where(
        Objection.linked_to_id == erased.id).order_by(Objection.id)))
    for dependant in dependants:
        dependant.linked_to = primary_among(
            session, {erased.pseudonym, dependant.pseudonym}, dependant.scope,
            dependant.project_reference, excluding={erased.id, dependant.id})
        session.flush()  # the next dependant sees the primary this one may have become
    for event in session.scalars(select(ObjectionEvent).where(
            ObjectionEvent.objection_id != erased.id,
            ObjectionEvent.detail.icontains(erased.reference))):
        event.detail = pattern.sub(ERASED_REFERENCE, event.detail)
    for other in session.scalars(select(Objection).where(
            Objection.id != erased.id, Objection.rejection_reason.icontains(erased.reference))):
        other.rejection_reason = pattern.sub(ERASED_REFERENCE, other.rejection_reason)
    for outbox in session.scalars(select(OutboxMail).where(
            OutboxMail.objection_id != erased.id,
            OutboxMail.subject.icontains(erased.reference)
            | OutboxMail.body.icontains(erased.reference))):
        outbox.subject = pattern.sub(ERASED_REFERENCE, outbox.subject)
        outbox.body = pattern.sub(ERASED_REFERENCE, outbox.body)


def _erase(session: Session, objection: Objection, now: datetime) -> None:
    """Forget everything that ties a filing to a person, keeping the coarse facts the public
    statistics count (month filed, age band, sex, scope) so the figures do not move; its dates
    become the start of the month filed. The reference stays, with one ``erased`` event, so
    staff can tell a filer what happened; no other row names it or points at it any more."""
    _forget_links_to(session, objection)  # before the pseudonym goes: it finds the primary
    purge_identity(objection)
    objection.pseudonym, objection.pseudonym_key_id = ERASED, ""
    objection.email_sealed = b""
    objection.nir_sealed = None  # sealed to the escrow key: no rotation needs it any more
    objection.submission_hash = secrets.token_hex(32)  # derived from the pseudonym
    # No code opens it any more (a random one, forgotten at once).
    objection.followup_hash = hash_code(secrets.token_urlsafe(24))
    objection.linked_to = None  # which filings were the same person's
    objection.rejection_reason = ""  # staff's words may name the person's other filings
    objection.failed_lookups, objection.locked_until = 0, None
    # Exact times would tie it to the person's other filings too (the next one took over at
    # the very moment of this withdrawal): only the month filed stays, as in the statistics.
    month_start = date.fromisoformat(f"{objection.month_filed}-01")
    objection.created_at = objection.effective_from = objection.status_changed_at = \
        start_of_local_day(month_start)
    objection.answer_due_on = add_months(month_start, 1)
    objection.events.clear()  # their details name the person's other filings
    for table in (OutboxMail, Letter):
        session.execute(delete(table).where(table.objection_id == objection.id))
    for table in (PostalAddress, FollowUpFailure):
        session.execute(delete(table).where(table.objection_id == objection.id))
    was = "rejected" if objection.status == ObjectionStatus.REJECTED else "withdrawn"
    objection.record("erased", by="system", at=now,
                     detail=f"{was} more than 12 months ago")


def erase_withdrawn(session: Session, *, now: datetime | None = None) -> tuple[int, list[str]]:
    """Erase filings withdrawn (or rejected) a year ago or more (by the calendar in France),
    as the form and the privacy page promise: pseudonym, e-mail address, follow-up code,
    links to the person's other filings, audit details and mails. A filing whose withdrawal
    staff have yet to review is held (the review needs its link to the person's objection)
    and its reference returned, so the operator sees that a promise is late. Returns (erased,
    references held)."""
    now = now or utcnow()
    today = local_date(now)
    erased, held = 0, []
    candidates = session.scalars(select(Objection).where(
        Objection.status.in_([ObjectionStatus.WITHDRAWN, ObjectionStatus.REJECTED]),
        Objection.pseudonym != ERASED,
        # twelve calendar months are never less than 364 days, whatever the time of day
        Objection.status_changed_at <= now - timedelta(days=364)).order_by(Objection.id))
    for objection in list(candidates):
        withdrawn_on = local_date(objection.status_changed_at)
        months = (KEPT_AFTER_REJECTION_MONTHS if objection.status == ObjectionStatus.REJECTED
                  else KEPT_AFTER_WITHDRAWAL_MONTHS)
        if add_months(withdrawn_on, months) > today:
            continue
        if objection.withdrawal_review:
            held.append(objection.reference)
            continue
        _erase(session, objection, now)
        erased += 1
    session.flush()
    return erased, held
