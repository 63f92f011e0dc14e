"""The objection process: filing, follow-up, withdrawal, statistics. Only this module (and
``objection.mail`` for the outbox) writes the objection tables.

Functions flush and never commit: the view commits once, and only then shows the receipt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.clock import local_date, start_of_local_day, utcnow
from objection import mail
from objection.identity import Nir, age_band
from objection.models import (
    ACTIVE_STATUSES,
    Filer,
    Objection,
    ObjectionEvent,
    ObjectionStatus,
    OutboxMail,
    Scope,
)
from objection.pseudonym import KeyConfigError, keyring, sealer
from registry.service import add_months

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CHECK_SYMBOLS = ALPHABET + "*~$=U"
MAX_FAILED_LOOKUPS = 5
LOCKOUT = timedelta(minutes=30)
SUPPRESSION_THRESHOLD = 10
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class FollowUpLocked(Exception):
    """Too many wrong codes for this reference: look-ups are paused until ``until``."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


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


# --------------------------------------------------------------------------- references

def _check_symbol(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_SYMBOLS[value % 37]


def new_reference() -> str:
    """``OPP-7K3M-Q9TX-4``: easy to read on the phone, with a check character that catches a
    wrong or swapped character. Drawn until the check is a letter or digit."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(8))
        check = _check_symbol(body)
        if check in ALPHABET:
            return f"OPP-{body[:4]}-{body[4:]}-{check}"


def normalise_reference(raw: str) -> str | None:
    """The reference as typed (spaces, lower case, O for 0…) in canonical form, or None if its
    check character is wrong."""
    text = (raw or "").upper().replace(" ", "").replace("-", "")
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if text.startswith("0PP"):
        text = "OPP" + text[3:]
    if not text.startswith("OPP") or len(text) != 12:
        return None
    body, check = text[3:11], text[11]
    if any(c not in ALPHABET for c in body) or _check_symbol(body) != check:
        return None
    return f"OPP-{body[:4]}-{body[4:]}-{check}"


def new_submission_token() -> str:
    """A one-time token for the form (bound to the browser session by the view)."""
    return uuid.uuid4().hex


def submission_hash(form_token: str, fingerprint: str) -> str:
    """What identifies one submission: the form's token *and* what was filed with it. The same
    form sent twice is one filing; a form changed after filing (back, "Modifier") is another."""
    return hashlib.sha256(f"{form_token}|{fingerprint}".encode()).hexdigest()


def _followup_code(form_token: str, fingerprint: str) -> str:
    """The follow-up code of a submission, derived from its token (never stored) and the secret
    key, so that a resent or concurrent submission shows the same code. Only its Argon2 hash is
    stored, and the token is not in the database, so the database alone cannot rebuild it."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(),
                      f"followup:{form_token}|{fingerprint}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(12):
        value, index = divmod(value, 32)
        chars.append(ALPHABET[index])
    code = "".join(chars)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _normalise_code(code: str) -> str:
    text = (code or "").upper().replace(" ", "").replace("-", "")
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


# --------------------------------------------------------------------------- filing

@dataclass(frozen=True)
class Filing:
    """A filed objection and the follow-up code to show on its receipt."""

    objection: Objection
    followup_code: str


def _fingerprint(pseudonym: str, scope: str, project_reference: str | None, filer: str) -> str:
    """What a filing is about: whose objection, to what, filed by whom."""
    project = (project_reference or "").upper() if scope == Scope.PROJECT else ""
    return f"{pseudonym}|{scope}|{project}|{filer}"


def find_filing(session: Session, *, form_token: str, nir: Nir, scope: str,
                project_reference: str | None, filer: str) -> Filing | None:
    """The filing already made with this form and these answers, if any: a form sent again
    (double click, a browser retry) gets the same receipt without being checked again, so a
    supporting document deleted after the first filing is not asked for twice."""
    _, pseudonym = keyring().pseudonymise(nir.value)
    fingerprint = _fingerprint(pseudonym, scope, project_reference, filer)
    existing = session.scalar(select(Objection).where(
        Objection.submission_hash == submission_hash(form_token, fingerprint)))
    return Filing(existing, _followup_code(form_token, fingerprint)) if existing else None


def active_objection(session: Session, nir: Nir, scope: Scope,
                     project_reference: str | None) -> Objection | None:
    """The person's primary active filing for this scope, whatever key made its pseudonym."""
    pseudonyms = {p for _, p in keyring().candidates(nir.value)}
    return _primary_among(session, pseudonyms, scope, project_reference)


def _primary_among(session: Session, pseudonyms: set[str], scope: Scope,
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


def _event(objection: Objection, action: str, by: str, now: datetime, detail: str = "") -> None:
    objection.events.append(ObjectionEvent(action=action, status=str(objection.status), by=by,
                                           at=now, detail=detail))


def _instance_file(*parts: str) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]).joinpath(*parts)


def write_private_file(path: Path, content: bytes) -> None:
    """Write a file only the service account can read (the content is encrypted anyway)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def _store_document(content: bytes, submission: str) -> str:
    """Named after the submission, so that a filing retried after a lost race writes the same
    file instead of leaving an orphan behind."""
    name = f"{submission}.bin"
    write_private_file(_instance_file("uploads", name), sealer().seal(content, b"document"))
    return name


def file_objection(session: Session, data: FilingInput, *, form_token: str,
                   channel: str = "web", now: datetime | None = None) -> Filing:
    """Write the objection, its audit event and its receipt mail (one transaction, flushed).

    The same form token with the same answers always yields the same filing. A filing for a
    person who already has an active objection of the same scope is recorded and linked to it,
    and looks exactly like a first filing to whoever made it. When two first filings race, the
    database's unique index refuses the second: the caller rolls back and calls again, and the
    second becomes a linked filing.
    """
    key_id, pseudonym = keyring().pseudonymise(data.nir.value)
    fingerprint = _fingerprint(pseudonym, data.scope, data.project_reference, data.filer)
    code = _followup_code(form_token, fingerprint)
    key = submission_hash(form_token, fingerprint)
    existing = session.scalar(select(Objection).where(Objection.submission_hash == key))
    if existing is not None:
        return Filing(existing, code)
    now = now or utcnow()
    today = local_date(now)
    project = data.project_reference if data.scope == Scope.PROJECT else None
    active = active_objection(session, data.nir, data.scope, project)
    needs_review = data.filer != Filer.SELF
    the_sealer = sealer()
    objection = Objection(
        reference=new_reference(),
        followup_hash=_HASHER.hash(code),
        submission_hash=key,
        pseudonym=pseudonym, pseudonym_key_id=key_id,
        scope=data.scope, project_reference=project, filer=data.filer,
        status=ObjectionStatus.TO_REVIEW if needs_review else ObjectionStatus.RECEIVED,
        channel=channel, lang=data.lang, linked_to=active,
        created_at=now, effective_from=now, status_changed_at=now,
        # Calendar facts are French dates: at 00:30 in Paris it is already tomorrow, though
        # the UTC date is still today (GDPR 12(3): an answer within one month of receipt).
        answer_due_on=add_months(today, 1),
        email_sealed=the_sealer.seal_text(data.email, "email"),
        month_filed=f"{today:%Y-%m}", age_band=age_band(data.birth_date, today),
        sex=data.sex,
    )
    if needs_review:
        # Kept encrypted for the review only; purged once the review is done.
        objection.identity_sealed = the_sealer.seal_text(json.dumps({
            "birth_name": data.birth_name, "first_names": data.first_names,
            "birth_date": data.birth_date.isoformat(),
            "representative_name": data.representative_name,
        }), "identity")
        if data.document:
            objection.document_path = _store_document(data.document, key)
    session.add(objection)
    _event(objection, "filed", by=f"citizen:{channel}", now=now,
           detail=f"scope={data.scope}; filer={data.filer}")
    mail.queue(session, objection, "receipt", recipient=data.email, now=now)
    session.flush()
    return Filing(objection, code)


# --------------------------------------------------------------------------- follow-up

def find_for_followup(session: Session, reference: str, code: str,
                      now: datetime | None = None) -> Objection | None:
    """The objection if ``code`` is its follow-up code; None otherwise (unknown reference and
    wrong code look the same). Raises FollowUpLocked after too many wrong codes."""
    now = now or utcnow()
    canonical = normalise_reference(reference)
    if canonical is None:
        return None
    objection = session.scalar(select(Objection).where(Objection.reference == canonical))
    if objection is None:
        _HASHER.hash("constant-time-filler")  # an unknown reference costs the same time
        return None
    if objection.locked_until and objection.locked_until > now:
        raise FollowUpLocked(objection.locked_until)
    try:
        _HASHER.verify(objection.followup_hash, _normalise_code(code))
    except (VerificationError, InvalidHashError):
        right = False
    else:
        right = True
    if not right:
        _count_wrong_code(session, objection, now)
        return None
    objection.failed_lookups = 0
    objection.locked_until = None
    session.flush()
    return objection


def _count_wrong_code(session: Session, objection: Objection, now: datetime) -> None:
    """Count a wrong code in the database itself (``failed_lookups = failed_lookups + 1``), not
    from the value this request read: wrong codes sent at the same time each count, so a burst
    of guesses cannot slip past the limit. The request that reaches it locks the reference
    (once: the reset is conditional); any request that finds it locked is told so."""
    count, locked_until = session.execute(
        update(Objection).where(Objection.id == objection.id)
        .values(failed_lookups=Objection.failed_lookups + 1)
        .returning(Objection.failed_lookups, Objection.locked_until),
        execution_options={"synchronize_session": "fetch"}).one()
    if count >= MAX_FAILED_LOOKUPS:
        locked_until = now + LOCKOUT
        locked = session.execute(
            update(Objection).where(Objection.id == objection.id,
                                    Objection.failed_lookups >= MAX_FAILED_LOOKUPS)
            .values(failed_lookups=0, locked_until=locked_until),
            execution_options={"synchronize_session": "fetch"}).rowcount
        if locked:
            _event(objection, "followup_locked", by="system", now=now)
    session.flush()
    if locked_until is not None and locked_until > now:
        raise FollowUpLocked(locked_until)


PUBLIC_ACTIONS = {"filed", "verified", "sent_to_platform", "applied", "withdrawn", "rejected"}


def timeline(objection: Objection) -> list[ObjectionEvent]:
    """The steps a citizen sees on the follow-up page."""
    return [e for e in objection.events if e.action in PUBLIC_ACTIONS]


def can_withdraw(objection: Objection) -> bool:
    return objection.status in ACTIVE_STATUSES


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
    _event(heir, "became_primary", by="system", now=now, detail=f"after={objection.reference}")
    for other in others:
        other.linked_to = heir


def withdraw(session: Session, objection: Objection, *, by: str,
             now: datetime | None = None) -> Objection:
    """Withdraw this filing (effective in the next exclusion list).

    Every filer sees the same thing: the filing is withdrawn. What it changes differs, and stays
    internal: withdrawing a primary filing lifts the person's objection unless another filing
    of theirs is active (it takes over); withdrawing a linked filing lifts nothing and is
    flagged for staff review, who decide whether the person's objection as a whole is lifted.
    """
    now = now or utcnow()
    if not can_withdraw(objection):
        return objection
    objection.status = ObjectionStatus.WITHDRAWN
    objection.status_changed_at = now
    _event(objection, "withdrawn", by=by, now=now)
    if objection.linked_to is not None:
        objection.withdrawal_review = True
        _event(objection, "withdrawal_review_requested", by="system", now=now,
               detail=f"primary={objection.linked_to.reference}")
    else:
        _hand_over(session, objection, now)
    recipient = sealer().open_text(objection.email_sealed, "email")
    mail.queue(session, objection, "withdrawal", recipient=recipient, now=now,
               dedup="withdrawn")
    session.flush()
    return objection


def change_status(session: Session, objection: Objection, status: ObjectionStatus, *, by: str,
                  reason: str = "", now: datetime | None = None) -> Objection:
    """Move an objection along its lifecycle (staff review, exports), with its audit event and
    a mail to the filer."""
    now = now or utcnow()
    was_active = objection.status in ACTIVE_STATUSES
    objection.status = status
    objection.status_changed_at = now
    if status == ObjectionStatus.REJECTED:
        objection.rejection_reason = reason
    if status in (ObjectionStatus.VERIFIED, ObjectionStatus.REJECTED):
        purge_identity(objection)
    _event(objection, str(status), by=by, now=now, detail=reason)
    if was_active and status not in ACTIVE_STATUSES and objection.linked_to is None:
        _hand_over(session, objection, now)
    if not is_erased(objection):  # an erased filing has no address left
        recipient = sealer().open_text(objection.email_sealed, "email")
        mail.queue(session, objection, "status", recipient=recipient, now=now,
                   dedup=str(status))
    session.flush()
    return objection


def purge_identity(objection: Objection) -> None:
    """Forget the encrypted identity and the document once no review needs them."""
    objection.identity_sealed = None
    if objection.document_path:
        _instance_file("uploads", objection.document_path).unlink(missing_ok=True)
        objection.document_path = None


def pending_document_path(form_token: str) -> Path:
    """Where a document waits, encrypted, between the form and the review step."""
    safe = "".join(c for c in form_token if c.isalnum())[:64]
    return _instance_file("uploads", "pending", f"{safe}.bin")


def keep_pending_document(form_token: str, content: bytes) -> None:
    """Keep a document that passed its checks until the form is sent (or abandoned)."""
    write_private_file(pending_document_path(form_token),
                       sealer().seal(content, b"pending-document"))


def pending_document(form_token: str) -> bytes | None:
    """The document kept for this form, if any (None if its key is no longer configured:
    the form then asks for the file again)."""
    path = pending_document_path(form_token)
    if not path.exists():
        return None
    try:
        return sealer().open(path.read_bytes(), b"pending-document")
    except (KeyConfigError, InvalidTag):
        return None


def forget_pending_document(form_token: str) -> None:
    pending_document_path(form_token).unlink(missing_ok=True)


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
    deleted = 0
    oldest = (now - pending_max_age).timestamp()
    pending = _instance_file("uploads", "pending")
    if pending.is_dir():
        for path in pending.glob("*.bin"):
            if path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
                deleted += 1
    uploads = _instance_file("uploads")
    if uploads.is_dir():  # documents of filings that never committed (a crash, a full disk)
        kept = set(session.scalars(select(Objection.document_path)
                                   .where(Objection.document_path.is_not(None))))
        for path in uploads.glob("*.bin"):
            if path.name not in kept and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
                deleted += 1
    return purged, deleted


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


# --------------------------------------------------------------------------- retention

ERASED = "erased"  #: the pseudonym of an erased filing (a real one is 64 hex digits)
KEPT_AFTER_WITHDRAWAL_MONTHS = 12  # form.html and the privacy page: "un an après son retrait"


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
        dependant.linked_to = _primary_among(
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
    objection.submission_hash = secrets.token_hex(32)  # derived from the pseudonym
    # No code opens it any more; a look-up costs an Argon2 check like any other.
    objection.followup_hash = _HASHER.hash(secrets.token_urlsafe(24))
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
    session.execute(delete(OutboxMail).where(OutboxMail.objection_id == objection.id))
    _event(objection, "erased", by="system", now=now,
           detail=f"withdrawn more than {KEPT_AFTER_WITHDRAWAL_MONTHS} months ago")


def erase_withdrawn(session: Session, *, now: datetime | None = None) -> tuple[int, list[str]]:
    """Erase filings withdrawn a year ago or more (by the calendar in France), as the form and
    the privacy page promise: pseudonym, e-mail address, follow-up code, links to the person's
    other filings, audit details and mails. A filing whose withdrawal staff have yet to review
    is held (the review needs its link to the person's objection) and its reference returned,
    so the operator sees that a promise is late. Returns (erased, references held)."""
    now = now or utcnow()
    today = local_date(now)
    erased, held = 0, []
    candidates = session.scalars(select(Objection).where(
        Objection.status == ObjectionStatus.WITHDRAWN, Objection.pseudonym != ERASED,
        # twelve calendar months are never less than 364 days, whatever the time of day
        Objection.status_changed_at <= now - timedelta(days=364)).order_by(Objection.id))
    for objection in list(candidates):
        withdrawn_on = local_date(objection.status_changed_at)
        if add_months(withdrawn_on, KEPT_AFTER_WITHDRAWAL_MONTHS) > today:
            continue
        if objection.withdrawal_review:
            held.append(objection.reference)
            continue
        _erase(session, objection, now)
        erased += 1
    session.flush()
    return erased, held


# --------------------------------------------------------------------------- statistics

AGE_BANDS = ["0-17", "18-29", "30-44", "45-59", "60-74", "75+"]


def suppress_small_cells(counts: dict[str, int], order: list[str] | None = None,
                         threshold: int = SUPPRESSION_THRESHOLD) -> list[tuple[str, int | None]]:
    """The cells of one breakdown, each under ``threshold`` replaced by None.

    Every breakdown adds up to the published total, so a single hidden cell could be worked out
    by subtraction: when exactly one cell is hidden, the smallest shown cell is hidden too
    (secondary suppression)."""
    keys = [k for k in (order or sorted(counts)) if counts.get(k)]
    hidden = {k for k in keys if counts[k] < threshold}
    if len(hidden) == 1:
        shown = sorted((k for k in keys if k not in hidden), key=lambda k: (counts[k], k))
        if shown:
            hidden.add(shown[0])
    return [(k, None if k in hidden else counts[k]) for k in keys]


def statistics_version(session: Session) -> str:
    """Changes whenever ``public_statistics`` may change: for the statistics page's ETag.

    The figures count every filing, and filings are never deleted (the yearly erasure keeps the
    coarse facts the figures use), so the number of filings and the last id follow them."""
    count, last = session.execute(select(func.count(), func.max(Objection.id))).one()
    return f"{count}-{last or 0}"


def public_statistics(session: Session) -> dict:
    """Objection requests received, by month filed, age band and sex; small cells suppressed.

    Every filing counts, including a later filing for someone who had already objected and a
    filing since withdrawn. Counting people instead (once, by their first filing) would let
    anyone holding a NIR learn whether that person had objected: file for them, and see whether
    the total moves. Here a repeat filing moves the figures exactly as a first one does."""
    rows = session.execute(
        select(Objection.month_filed, Objection.age_band, Objection.sex, func.count())
        .group_by(Objection.month_filed, Objection.age_band, Objection.sex))
    by_month: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    for month, band, sex, count in rows:
        by_month[month] += count
        by_age[band] += count
        by_sex[sex] += count
    total = sum(by_month.values())
    months = [(date.fromisoformat(f"{month}-01"), count)
              for month, count in suppress_small_cells(by_month)]
    return {
        "total": total if total >= SUPPRESSION_THRESHOLD else None,
        "by_month": months,
        "by_age_band": suppress_small_cells(by_age, AGE_BANDS),
        "by_sex": suppress_small_cells(by_sex, ["F", "M"]),
        "threshold": SUPPRESSION_THRESHOLD,
    }
