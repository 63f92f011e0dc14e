"""The objection process: filing, follow-up, withdrawal, statistics. Only this module (and
``objection.mail`` for the outbox) writes the objection tables.

Functions flush and never commit: the view commits once, and only then shows the receipt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from objection import mail
from objection.identity import Nir, age_band
from objection.models import (
    ACTIVE_STATUSES,
    Filer,
    Objection,
    ObjectionEvent,
    ObjectionStatus,
    Scope,
)
from objection.pseudonym import keyring, sealer
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
    """A one-time token for the form: the same token always gives the same objection."""
    return uuid.uuid4().hex


def followup_code(idempotency_key: str) -> str:
    """The follow-up code of a filing, derived from its one-time token and the secret key, so
    a resent or concurrent submission shows the same code. Only its hash is stored."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(),
                      b"followup:" + idempotency_key.encode(), hashlib.sha256).digest()
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

def find_by_token(session: Session, idempotency_key: str) -> Objection | None:
    return session.scalar(select(Objection).where(Objection.idempotency_key == idempotency_key))


def active_objection(session: Session, nir: Nir, scope: Scope,
                     project_reference: str | None) -> Objection | None:
    """The person's active objection for this scope, whatever key made its pseudonym."""
    pseudonyms = [p for _, p in keyring().candidates(nir.value)]
    statement = select(Objection).where(
        Objection.pseudonym.in_(pseudonyms), Objection.scope == scope,
        Objection.status.in_(list(ACTIVE_STATUSES)), Objection.linked_to_id.is_(None))
    if scope == Scope.PROJECT:
        statement = statement.where(Objection.project_reference == project_reference)
    return session.scalars(statement.order_by(Objection.id)).first()


def _event(objection: Objection, action: str, by: str, now: datetime, detail: str = "") -> None:
    objection.events.append(ObjectionEvent(action=action, status=str(objection.status), by=by,
                                           at=now, detail=detail))


def _store_document(content: bytes, now: datetime) -> str:
    folder = Path(current_app.config["INSTANCE_DIR"]) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now:%Y%m%d}-{uuid.uuid4().hex}.bin"
    (folder / name).write_bytes(sealer().seal(content, b"document"))
    return name


def file_objection(session: Session, data: FilingInput, *, idempotency_key: str,
                   channel: str = "web", now: datetime | None = None) -> Objection:
    """Write the objection, its audit event and its receipt mail (one transaction, flushed).

    The same ``idempotency_key`` always yields the same objection. A second filing for a person
    who already has an active objection of the same scope is recorded and linked to it, and
    looks exactly like a first filing to whoever made it.
    """
    existing = find_by_token(session, idempotency_key)
    if existing is not None:
        return existing
    now = now or datetime.now(UTC)
    key_id, pseudonym = keyring().pseudonymise(data.nir.value)
    project = data.project_reference if data.scope == Scope.PROJECT else None
    active = active_objection(session, data.nir, data.scope, project)
    needs_review = data.filer != Filer.SELF
    the_sealer = sealer()
    objection = Objection(
        reference=new_reference(),
        followup_hash=_HASHER.hash(followup_code(idempotency_key)),
        idempotency_key=idempotency_key,
        pseudonym=pseudonym, pseudonym_key_id=key_id,
        scope=data.scope, project_reference=project, filer=data.filer,
        status=ObjectionStatus.TO_REVIEW if needs_review else ObjectionStatus.RECEIVED,
        channel=channel, lang=data.lang, linked_to=active,
        created_at=now, effective_from=now, status_changed_at=now,
        answer_due_on=add_months(now.date(), 1),
        email_sealed=the_sealer.seal_text(data.email, "email"),
        month_filed=f"{now:%Y-%m}", age_band=age_band(data.birth_date, now.date()),
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
            objection.document_path = _store_document(data.document, now)
    session.add(objection)
    _event(objection, "filed", by=f"citizen:{channel}", now=now,
           detail=f"scope={data.scope}; filer={data.filer}")
    mail.queue(session, objection, "receipt", recipient=data.email, now=now)
    session.flush()
    return objection


# --------------------------------------------------------------------------- follow-up

def find_for_followup(session: Session, reference: str, code: str,
                      now: datetime | None = None) -> Objection | None:
    """The objection if ``code`` is its follow-up code; None otherwise (unknown reference and
    wrong code look the same). Raises FollowUpLocked after too many wrong codes."""
    now = now or datetime.now(UTC)
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
        objection.failed_lookups += 1
        if objection.failed_lookups >= MAX_FAILED_LOOKUPS:
            objection.locked_until = now + LOCKOUT
            objection.failed_lookups = 0
            _event(objection, "followup_locked", by="system", now=now)
        session.flush()
        if objection.locked_until and objection.locked_until > now:
            raise FollowUpLocked(objection.locked_until) from None
        return None
    objection.failed_lookups = 0
    objection.locked_until = None
    session.flush()
    return objection


PUBLIC_ACTIONS = {"filed", "verified", "sent_to_platform", "applied", "withdrawn",
                  "withdrawal_requested", "rejected"}


def timeline(objection: Objection) -> list[ObjectionEvent]:
    """The steps a citizen sees on the follow-up page."""
    return [e for e in objection.events if e.action in PUBLIC_ACTIONS]


def can_withdraw(objection: Objection) -> bool:
    return objection.status in ACTIVE_STATUSES and \
        objection.status != ObjectionStatus.WITHDRAWAL_REQUESTED


def withdraw(session: Session, objection: Objection, *, by: str,
             now: datetime | None = None) -> Objection:
    """Lift the objection (effective in the next exclusion list). Through a filing linked to
    an earlier objection, the request goes to staff review instead, so that a stranger who
    knows someone's NIR cannot lift that person's objection."""
    now = now or datetime.now(UTC)
    if not can_withdraw(objection):
        return objection
    if objection.linked_to is not None:
        objection.status = ObjectionStatus.WITHDRAWAL_REQUESTED
        action = "withdrawal_requested"
    else:
        objection.status = ObjectionStatus.WITHDRAWN
        action = "withdrawn"
    objection.status_changed_at = now
    _event(objection, action, by=by, now=now)
    recipient = sealer().open_text(objection.email_sealed, "email")
    mail.queue(session, objection, "withdrawal", recipient=recipient, now=now,
               dedup=action)
    session.flush()
    return objection


def change_status(session: Session, objection: Objection, status: ObjectionStatus, *, by: str,
                  reason: str = "", now: datetime | None = None) -> Objection:
    """Move an objection along its lifecycle (staff review, exports), with its audit event and
    a mail to the filer."""
    now = now or datetime.now(UTC)
    objection.status = status
    objection.status_changed_at = now
    if status == ObjectionStatus.REJECTED:
        objection.rejection_reason = reason
    if status in (ObjectionStatus.VERIFIED, ObjectionStatus.REJECTED):
        purge_identity(objection)
    _event(objection, str(status), by=by, now=now, detail=reason)
    recipient = sealer().open_text(objection.email_sealed, "email")
    mail.queue(session, objection, "status", recipient=recipient, now=now, dedup=str(status))
    session.flush()
    return objection


def purge_identity(objection: Objection) -> None:
    """Forget the encrypted identity and the document once no review needs them."""
    objection.identity_sealed = None
    if objection.document_path:
        path = Path(current_app.config["INSTANCE_DIR"]) / "uploads" / objection.document_path
        path.unlink(missing_ok=True)
        objection.document_path = None


def purge_reviewed(session: Session) -> int:
    """Purge identities of every objection that no longer awaits a review."""
    count = 0
    for objection in session.scalars(select(Objection).where(
            Objection.identity_sealed.is_not(None),
            Objection.status.not_in([ObjectionStatus.TO_REVIEW,
                                     ObjectionStatus.WITHDRAWAL_REQUESTED]))):
        purge_identity(objection)
        count += 1
    session.flush()
    return count


# --------------------------------------------------------------------------- statistics

def public_statistics(session: Session) -> dict:
    """Objections by month, age band and sex; every count under 10 is suppressed (None)."""
    rows = session.execute(select(Objection.month_filed, Objection.age_band, Objection.sex,
                                  Objection.scope).where(Objection.linked_to_id.is_(None)))
    by_month: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    by_sex: Counter[str] = Counter()
    total = 0
    for month, band, sex, _scope in rows:
        by_month[month] += 1
        by_age[band] += 1
        by_sex[sex] += 1
        total += 1

    def suppressed(counter: Counter[str], order: list[str] | None = None) -> list[tuple[str, int |
                                                                                    None]]:
        keys = order or sorted(counter)
        return [(k, counter[k] if counter[k] >= SUPPRESSION_THRESHOLD else None) for k in keys
                if k in counter]

    return {
        "total": total if total >= SUPPRESSION_THRESHOLD else None,
        "by_month": suppressed(by_month),
        "by_age_band": suppressed(by_age, ["0-17", "18-29", "30-44", "45-59", "60-74", "75+"]),
        "by_sex": suppressed(by_sex, ["F", "M"]),
        "threshold": SUPPRESSION_THRESHOLD,
    }
