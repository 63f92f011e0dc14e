"""The objection process's writes: filing, withdrawal, status changes. With ``followup``
(wrong codes), ``retention`` (erasure) and ``mail`` (the outbox), the only code that writes the
objection tables.

Functions flush and never commit: the view commits once, and only then shows the receipt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import add_months, local_date, utcnow
from core.database import dialect_insert
from objection import documents, followup, letters, mail, statistics
from objection.exclusions import escrow
from objection.identity import Nir, age_band
from objection.keys import sealer
from objection.models import ACTIVE_STATUSES, Filer, Objection, ObjectionStatus, Scope
from objection.queries import Filing, find_filing, primary_among
from objection.references import Submission, hash_code, new_reference, submission
from objection.retention import is_erased, purge_identity
from staff import audit


@dataclass
class FilingInput:
    filer: Filer
    scope: Scope
    project_reference: str | None
    nir: Nir
    birth_name: str
    first_names: str
    birth_date: date
    sex: str
    email: str
    lang: str = "fr"
    representative_name: str = ""
    document: bytes | None = None
    document_type: str = ""
    postal_address: str = ""  # where letters go when there is no e-mail address


CHANNELS = ("web", "post", "phone")  #: how a filing reached us (staff record post and phone)


def file_objection(session: Session, data: FilingInput, *, form_token: str,
                   channel: str = "web", now: datetime | None = None,
                   known: Submission | None = None, by: str | None = None) -> Filing:
    """Write the objection, its audit event and its receipt mail (one transaction, flushed).

    The same form token with the same answers always yields the same filing. A filing for a
    person who already has an active objection of the same scope is recorded and linked to it,
    and looks exactly like a first filing to whoever made it. Races are settled by the
    database without an error: the row is inserted with ``ON CONFLICT DO NOTHING``, so when the
    same form is sent twice at once, or two first filings for the same person meet, the second
    insert does nothing and is tried again, finding the first (the same filing, or the primary
    one to link to). No duplicate-key error is raised, so none reaches a server log.
    ``known``: the submission the caller already worked out for this token and these answers
    (the form looks for an earlier filing first), so the NIR is pseudonymised once.
    """
    sub = known or submission(form_token, data.nir, data.scope, data.project_reference,
                              data.filer)
    now = now or utcnow()
    today = local_date(now)
    needs_review = data.filer != Filer.SELF
    the_sealer = sealer()
    values = dict(
        followup_hash=hash_code(sub.followup_code), submission_hash=sub.hash,
        pseudonym=sub.pseudonym, pseudonym_key_id=sub.key_id, scope=data.scope,
        project_reference=sub.project_reference, filer=data.filer,
        status=ObjectionStatus.TO_REVIEW if needs_review else ObjectionStatus.RECEIVED,
        channel=channel, lang=data.lang, created_at=now, effective_from=now,
        status_changed_at=now,
        # Calendar facts are French dates: at 00:30 in Paris it is already tomorrow, though
        # the UTC date is still today (GDPR 12(3): an answer within one month of receipt).
        answer_due_on=add_months(today, 1),
        email_sealed=the_sealer.seal_text(data.email, "email") if data.email else b"",
        # Sealed to the offline escrow key: only a key rotation run can open it.
        nir_sealed=escrow.seal(data.nir.value),
        month_filed=f"{today:%Y-%m}", age_band=age_band(data.birth_date, today), sex=data.sex,
    )
    if needs_review:
        # Kept encrypted for the review only; purged once the review is done.
        values["identity_sealed"] = the_sealer.seal_text(json.dumps({
            "birth_name": data.birth_name, "first_names": data.first_names,
            "birth_date": data.birth_date.isoformat(),
            "representative_name": data.representative_name,
        }), "identity")
        if data.document:
            values["document_path"] = documents.store(data.document, sub.hash)
    for _attempt in range(3):
        existing = find_filing(session, sub)
        if existing is not None:
            return existing
        primary = primary_among(session, sub.pseudonyms, Scope(data.scope),
                                sub.project_reference)
        objection_id = _insert_objection(session, dict(
            values, reference=new_reference(), linked_to_id=primary.id if primary else None))
        if objection_id is not None:
            break
    else:  # three conflicts in a row: another writer keeps winning, which cannot last
        raise RuntimeError("the filing could not be inserted after three attempts")
    objection = session.get(Objection, objection_id)
    assert objection is not None
    objection.record("filed", by=by or f"citizen:{channel}", at=now,
                     detail=f"scope={data.scope}; filer={data.filer}")
    statistics.count_filing(session, objection)
    if data.postal_address:
        letters.keep_address(session, objection, data.postal_address)
    if by is not None:  # recorded by staff (post, telephone): in the audit trail too
        audit.record(session, "objection.filed_for_person", actor=by,
                     target=f"objection:{objection.id}",
                     detail={"channel": channel, "filer": str(data.filer)}, at=now)
    _notify(session, objection, "receipt", now=now)
    session.flush()
    return Filing(objection, sub.followup_code)


def email_of(objection: Objection) -> str:
    """The filer's e-mail address ("" when they gave a postal address only, or erased)."""
    if not objection.email_sealed:
        return ""
    return sealer().open_text(objection.email_sealed, "email")


def _notify(session: Session, objection: Objection, kind: str, *, now: datetime,
            dedup: str = "") -> None:
    """Tell the filer: by e-mail when they gave an address, else by a letter to print."""
    if is_erased(objection):  # an erased filing has no address left
        return
    recipient = email_of(objection)
    if recipient:
        mail.queue(session, objection, kind, recipient=recipient, now=now, dedup=dedup)
    elif letters.address_of(session, objection):
        letters.queue(session, objection, kind, now=now, dedup=dedup)


def _insert_objection(session: Session, values: dict) -> int | None:
    """Insert a filing, or nothing when one of the table's unique indexes already holds it (the
    same submission, a primary filing for the same person and scope): its id, or None."""
    insert = dialect_insert(session)(Objection).values(**values)
    return session.scalar(insert.on_conflict_do_nothing().returning(Objection.id))


def _hand_over(session: Session, objection: Objection, now: datetime) -> None:
    """When a primary filing stops being active, the oldest active filing linked to it becomes
    the primary one, so the person's objection stays in force: a stranger who filed first with
    someone's NIR cannot lift that person's own filing by withdrawing theirs."""
    successors = list(session.scalars(
        select(Objection).where(Objection.linked_to_id == objection.id,
                                Objection.status.in_(list(ACTIVE_STATUSES)))
        .order_by(Objection.id)))
    if not successors:
        return
    session.flush()  # the old primary leaves the unique index before the new one enters it
    heir, *others = successors
    heir.linked_to = None
    heir.record("became_primary", by="system", at=now, detail=f"after={objection.reference}")
    for other in others:
        other.linked_to = heir


def _claim_withdrawal(session: Session, objection: Objection, now: datetime) -> bool:
    """Withdraw the filing in the database itself, only if it is still active (a conditional
    ``UPDATE … WHERE status IN (active)``), and say whether this request did it. Two
    confirmations sent at once (a double click) both read the filing as active; the database
    lets one change it (PostgreSQL makes the other wait for the row, then finds it withdrawn;
    SQLite lets one writer at a time), so the other gets False and writes nothing: no second
    event or mail, no duplicate-key error. ``objection`` is reloaded either way."""
    session.flush()
    claimed = session.execute(
        update(Objection)
        .where(Objection.id == objection.id, Objection.status.in_(list(ACTIVE_STATUSES)))
        .values(status=ObjectionStatus.WITHDRAWN, status_changed_at=now),
        execution_options={"synchronize_session": False}).rowcount
    session.refresh(objection)
    return bool(claimed)


def withdraw(session: Session, objection: Objection, *, by: str,
             now: datetime | None = None) -> Objection:
    """Withdraw this filing (effective in the next exclusion list).

    Every filer sees the same thing: the filing is withdrawn. What it changes differs, and stays
    internal: withdrawing a primary filing lifts the person's objection unless another filing
    of theirs is active (it takes over); withdrawing a linked filing lifts nothing and is
    flagged for staff review, who decide whether the person's objection as a whole is lifted.
    """
    now = now or utcnow()
    if not _claim_withdrawal(session, objection, now):
        return objection  # withdrawn already (a second click): the same page, no second mail
    objection.record("withdrawn", by=by, at=now)
    if objection.linked_to is not None:
        objection.withdrawal_review = True
        objection.record("withdrawal_review_requested", by="system", at=now,
               detail=f"primary={objection.linked_to.reference}")
    else:
        _hand_over(session, objection, now)
    _notify(session, objection, "withdrawal", now=now, dedup="withdrawn")
    session.flush()
    return objection


def change_status(session: Session, objection: Objection, status: ObjectionStatus, *, by: str,
                  reason: str = "", now: datetime | None = None) -> Objection:
    """Move an objection along its lifecycle (staff review, exports), with its event, an
    audit event in the same transaction (who, from which status to which; never the reason's
    words, which may name someone) and a mail (or letter) to the filer."""
    now = now or utcnow()
    was_active = objection.status in ACTIVE_STATUSES
    before = str(objection.status)
    objection.status = status
    objection.status_changed_at = now
    if status == ObjectionStatus.REJECTED:
        objection.rejection_reason = reason
    if status in (ObjectionStatus.VERIFIED, ObjectionStatus.REJECTED):
        purge_identity(objection)
    objection.record(str(status), by=by, at=now, detail=reason)
    audit.record(session, "objection.status_changed", actor=by,
                 target=f"objection:{objection.id}",
                 detail={"from": before, "to": str(status), "reason": bool(reason)}, at=now)
    if was_active and status not in ACTIVE_STATUSES and objection.linked_to is None:
        _hand_over(session, objection, now)
    _notify(session, objection, "status", now=now, dedup=str(status))
    session.flush()
    return objection


def settle_withdrawal_review(session: Session, objection: Objection, *, lift: bool, by: str,
                             now: datetime | None = None) -> Objection:
    """Staff's decision on the withdrawal of a linked filing: ``lift`` withdraws the person's
    objection as a whole (the primary filing it was linked to, and every other active filing
    linked to that one, each with its event and mail); otherwise the objection stays in force.
    Either way the review is cleared, so the yearly erasure is no longer held."""
    now = now or utcnow()
    if not objection.withdrawal_review:
        return objection
    primary = objection.linked_to
    lifted = 0
    if lift and primary is not None:
        others = list(session.scalars(select(Objection).where(
            Objection.linked_to_id == primary.id, Objection.id != objection.id,
            Objection.status.in_(list(ACTIVE_STATUSES)))))
        for filing in [*others, primary]:
            if _claim_withdrawal(session, filing, now):
                filing.record("withdrawn", by=by, at=now, detail="withdrawal_review")
                _notify(session, filing, "withdrawal", now=now, dedup="withdrawn")
                lifted += 1
    objection.withdrawal_review = False
    objection.record("withdrawal_review_settled", by=by, at=now,
                     detail="lifted" if lift else "kept")
    audit.record(session, "objection.withdrawal_review_settled", actor=by,
                 target=f"objection:{objection.id}",
                 detail={"lifted": bool(lift), "filings_withdrawn": lifted}, at=now)
    session.flush()
    return objection


def unlock_followup(session: Session, objection: Objection, *, by: str,
                    now: datetime | None = None) -> int:
    """Lift the follow-up locks someone's wrong codes put on this reference (its owner is
    kept out, typically behind a shared connection); returns how many were locked."""
    locked = followup.unlock(session, objection)
    audit.record(session, "objection.followup_unlocked", actor=by,
                 target=f"objection:{objection.id}", detail={"connections": locked}, at=now)
    return locked


@dataclass(frozen=True)
class Identity:
    """What staff see of a proxy filing, only on its review page (each opening audited)."""

    birth_name: str
    first_names: str
    birth_date: str
    representative_name: str
    email: str
    postal_address: str


def open_identity(session: Session, objection: Objection, *, by: str) -> Identity | None:
    """Decrypt the identity kept for a review (None once the review is done), and record who
    looked, in the same transaction."""
    if objection.identity_sealed is None:
        return None
    data = json.loads(sealer().open_text(objection.identity_sealed, "identity"))
    audit.record(session, "objection.identity_viewed", actor=by,
                 target=f"objection:{objection.id}")
    return Identity(data.get("birth_name", ""), data.get("first_names", ""),
                    data.get("birth_date", ""), data.get("representative_name", ""),
                    email_of(objection), letters.address_of(session, objection))


def open_document(session: Session, objection: Objection, *, by: str
                  ) -> tuple[bytes, str] | None:
    """The supporting document and its type, checked again by its parser before anyone opens
    it (documents kept before the checks were strict); the opening is audited. None when
    there is none, or it no longer passes (it is then kept for the reviewer to refuse)."""
    if not objection.document_path:
        return None
    content = documents.read(objection.document_path)
    kind = documents.checked_type(content) if content is not None else None
    audit.record(session, "objection.document_viewed", actor=by,
                 target=f"objection:{objection.id}", detail={"accepted": kind is not None})
    if content is None or kind is None:
        return None
    return content, kind
