"""Mails to people who object: composed into an outbox in the same transaction as the change,
then delivered by ``flask outbox send`` (or right after the commit, best effort) with retries.

No mail ever contains a NIR, a name, a birth date or the follow-up code, and no mail says
whether the person had already objected.
"""

from __future__ import annotations

import functools
import logging
import os
import smtplib
import ssl
import uuid
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.database import dialect_insert
from core.i18n import format_date, formatting_locale
from objection.keys import sealer
from objection.models import Objection, OutboxMail

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 20
CLAIM_LEASE = timedelta(minutes=10)  # longer than any SMTP timeout


def compose(objection: Objection, kind: str) -> tuple[str, str]:
    site = current_app.config["SITE_URL"].rstrip("/")
    prefix = "/en" if objection.lang == "en" else ""
    followup = f"{site}{prefix}/opposition/suivi"
    def day(value) -> str:
        """A date in the site's time zone, formatted for the mail's language (en → en_GB)."""
        with force_locale(formatting_locale(objection.lang)):
            return format_date(value, format="long")  # "1er janvier" in French

    with force_locale(objection.lang):
        greeting = _("Bonjour,")
        signature = _("La Plateforme des données de santé (démonstration)")
        reference = _("Référence : %(reference)s", reference=objection.reference)
        follow = _("Pour suivre ou retirer votre demande : %(url)s, avec votre référence et le "
                   "code de suivi affiché sur l'accusé de réception.", url=followup)
        if kind == "receipt":
            subject = _("Accusé de réception de votre opposition %(reference)s",
                        reference=objection.reference)
            lines = [
                _("Nous avons bien reçu votre demande d'opposition le %(date)s.",
                  date=day(objection.created_at)),
                _("Elle s'applique à toutes les extractions de données faites après cette "
                  "date."),
                _("Nous vous répondrons au plus tard le %(date)s.",
                  date=day(objection.answer_due_on)),
                _("Cela ne change rien à vos soins ni à vos remboursements."),
            ]
        elif kind == "withdrawal":
            subject = _("Votre demande %(reference)s est retirée", reference=objection.reference)
            lines = [
                _("Vous avez retiré votre demande d'opposition le %(date)s.",
                  date=day(objection.status_changed_at)),
                _("Le retrait compte à partir de la prochaine liste transmise à la plateforme."),
                _("Si vous avez fait plusieurs demandes pour la même personne, retirez chacune "
                  "d'elles."),
            ]
        else:
            subject = _("Votre opposition %(reference)s : %(status)s",
                        reference=objection.reference, status=objection.status.label)
            lines = [_("Le statut de votre demande a changé : %(status)s.",
                       status=objection.status.label)]
            if objection.rejection_reason:
                lines.append(_("Motif : %(reason)s", reason=objection.rejection_reason))
        body = "\n\n".join([greeting, *lines, reference, follow, signature]) + "\n"
    return subject, body


def queue(session: Session, objection: Objection, kind: str, *, recipient: str,
          now: datetime, dedup: str = "") -> bool:
    """Add a mail to the outbox (same transaction as the change it announces); returns whether
    it was added. There is one mail per event (``objection``, ``kind``, ``dedup``): a second
    one is skipped by the database (``ON CONFLICT DO NOTHING``), so announcing an event twice
    sends one mail and raises no duplicate-key error (PostgreSQL would log its key)."""
    subject, body = compose(objection, kind)
    if objection.id is None:
        session.flush()
    added = session.scalar(
        dialect_insert(session)(OutboxMail)
        .values(objection_id=objection.id, kind=kind, dedup=dedup, subject=subject, body=body,
                recipient_sealed=sealer().seal_text(recipient, "email"), created_at=now,
                next_attempt_at=now, attempts=0, last_error="")
        .on_conflict_do_nothing().returning(OutboxMail.id))
    return added is not None


def deliverable_address(address: str) -> str:
    """The address with its domain in ASCII (punycode): a server without SMTPUTF8 refuses
    ``jean@école.fr`` but takes ``jean@xn--cole-9oa.fr``, the same mailbox. (The form already
    stores that form; this also covers mails queued before it did.)"""
    try:
        validated = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return validated.ascii_email or address


# UTF-8 text sent as it is (8bit), headers in quoted-printable words where they are not ASCII.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding, _UTF8.body_encoding = QP, None


def _message(app: Flask, mail: OutboxMail, recipient: str) -> Message:
    """The mail as sent. Built with the standard library's plain MIME classes: the same
    message as ``EmailMessage`` makes, seven times faster (its header folding cost 2 ms, on
    every filing's receipt)."""
    message = MIMEText(mail.body, "plain", _UTF8)
    name, address = parseaddr(app.config["MAIL_SENDER"])
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = deliverable_address(recipient)
    message["Subject"] = Header(mail.subject, "utf-8").encode()
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = make_msgid(domain="hdh-transparence.invalid")
    message["Auto-Submitted"] = "auto-generated"
    return message


@functools.lru_cache(maxsize=8)
def _tls_context_for(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
    # OpenSSL reads SSL_CERT_FILE / SSL_CERT_DIR when the context loads the default
    # authorities; the arguments only key the cache on them.
    return ssl.create_default_context()


def tls_context() -> ssl.SSLContext:
    """The context STARTTLS checks the server's certificate and host name with. Loading the
    system's authorities takes milliseconds and every filing sends its receipt at once, so it
    is built on the first mail and reused by the process; it is keyed by ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR``, so settings made before a send are honoured. (A CA file changed in place
    is read again when the process restarts.)"""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


def _deliver(app: Flask, message: Message) -> None:
    if not app.config.get("MAIL_SERVER"):
        folder = Path(app.config["MAIL_OUTBOX_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(message.as_bytes())
        return
    with smtplib.SMTP(app.config["MAIL_SERVER"], int(app.config["MAIL_PORT"]),
                      timeout=app.config["MAIL_TIMEOUT"]) as smtp:
        if app.config.get("MAIL_USE_TLS"):
            # Without a context, starttls() encrypts but checks neither the certificate nor the
            # host name: anyone on the path could pose as the mail server and read the mails.
            smtp.starttls(context=tls_context())
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
        smtp.send_message(message)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_pending(session: Session, *, now: datetime | None = None,
                 objection_id: int | None = None, limit: int = 200) -> tuple[int, int]:
    """Try every due mail once; returns (sent, failed).

    Each mail is first *claimed* (its next attempt moved a lease ahead, in its own commit), so
    the send right after a filing and a concurrent ``flask outbox send`` never both send it. A
    failure of any kind on one mail (server down, a key no longer configured…) is recorded on
    that mail and the others go on. Delivery is at least once: a crash between the SMTP answer
    and the commit sends that mail again after the lease.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    statement = select(OutboxMail.id).where(OutboxMail.sent_at.is_(None),
                                            OutboxMail.next_attempt_at <= now,
                                            OutboxMail.attempts < MAX_ATTEMPTS)
    if objection_id is not None:
        statement = statement.where(OutboxMail.objection_id == objection_id)
    sent = failed = 0
    for mail_id in list(session.scalars(statement.order_by(OutboxMail.id).limit(limit))):
        claimed = session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
                   OutboxMail.next_attempt_at <= now)
            .values(next_attempt_at=now + CLAIM_LEASE)).rowcount
        session.commit()
        if not claimed:
            continue  # another sender has it
        mail = session.get(OutboxMail, mail_id)
        assert mail is not None
        try:
            recipient = sealer().open_text(mail.recipient_sealed, "email")
            _deliver(app, _message(app, mail, recipient))
        except Exception as exc:  # one bad mail must not stop the others
            mail.attempts += 1
            mail.next_attempt_at = now + backoff(mail.attempts)
            mail.last_error = type(exc).__name__[:300]
            failed += 1
            if mail.attempts >= MAX_ATTEMPTS:
                log.error("mail %s abandoned after %s attempts (%s): an operator must act",
                          mail.id, mail.attempts, type(exc).__name__)
            else:
                log.warning("mail %s not sent (attempt %s): %s", mail.id, mail.attempts,
                            type(exc).__name__)
        else:
            mail.attempts += 1
            mail.sent_at = utcnow()
            mail.last_error = ""
            sent += 1
        session.commit()
    return sent, failed


def abandoned(session: Session) -> int:
    """Mails that reached the last attempt without being sent: an operator must look."""
    return session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.attempts >= MAX_ATTEMPTS)) or 0
