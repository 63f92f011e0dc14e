"""The review queue and a filing's review. Thin: parse, call ``objection.service``, commit,
render; mails go out after the commit (best effort; the outbox retries)."""

from __future__ import annotations

import logging

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from core.extensions import db
from objection import followup, letters, mail, queries, service
from objection.backoffice import bp
from objection.forms import has_hidden_characters
from objection.models import Objection, ObjectionStatus
from staff import auth
from staff.models import Role

log = logging.getLogger(__name__)
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
REASON_MAX = 1000


class DecisionForm(FlaskForm):
    decision = StringField()  # "accept" or "reject", checked by the view
    reason = TextAreaField(validators=[Length(max=REASON_MAX)])


class WithdrawalForm(FlaskForm):
    decision = StringField()  # "keep" or "lift"


class ButtonForm(FlaskForm):
    """A button: its CSRF token only."""


def _filing(reference: str) -> Objection:
    objection = queries.get_by_reference(db.session, reference.upper()[:20])
    if objection is None:
        abort(404)
    return objection


def deliver(objection_id: int) -> None:
    """Send the filing's queued mails now, after the commit (the outbox retries failures)."""
    try:
        mail.send_pending(db.session, objection_id=objection_id)
    except Exception:
        log.exception("immediate mail delivery failed; the outbox will retry")
        db.session.rollback()


@bp.route("/")
@auth.require_role(Role.REVIEWER)
def queue():
    entries = queries.review_queue(db.session)
    return render_template("objection_backoffice/queue.html", entries=entries,
                           due_soon_days=queries.DUE_SOON_DAYS,
                           letters_waiting=len(letters.to_print(db.session)))


def _render_review(objection: Objection, form: DecisionForm, errors: dict[str, str],
                   status: int = 200):
    identity = service.open_identity(db.session, objection, by=auth.actor())
    db.session.commit()  # the opening is recorded even if nothing is decided
    return render_template(
        "objection_backoffice/review.html", objection=objection, identity=identity,
        form=form, errors=errors, withdrawal_form=WithdrawalForm(formdata=None),
        button=ButtonForm(formdata=None), locks=followup.locks(db.session, objection),
        events=objection.events), status


@bp.route("/<reference>")
@auth.require_role(Role.REVIEWER)
def review(reference: str):
    return _render_review(_filing(reference), DecisionForm(formdata=None), {})


@bp.route("/<reference>/justificatif")
@auth.require_role(Role.REVIEWER)
def document(reference: str):
    """The supporting document, checked again by its parser, only as a download: a safe type,
    ``attachment``, ``nosniff`` and a sandboxing CSP, so a browser never runs it as a page."""
    objection = _filing(reference)
    opened = service.open_document(db.session, objection, by=auth.actor())
    db.session.commit()
    if opened is None:
        abort(404)
    content, kind = opened
    response = make_response(content)
    response.headers["Content-Type"] = kind
    response.headers["Content-Disposition"] = (
        f'attachment; filename="justificatif-{objection.reference}.{EXTENSIONS[kind]}"')
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.route("/<reference>/decision", methods=["POST"])
@auth.require_role(Role.REVIEWER)
def decide(reference: str):
    objection = _filing(reference)
    form = DecisionForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        errors["reason"] = _("Le motif doit faire %(n)s caractères au plus.", n=REASON_MAX)
    decision = form.decision.data
    reason = (form.reason.data or "").strip()
    if decision not in ("accept", "reject"):
        errors["decision"] = _("Choisissez d'accepter ou de refuser la demande.")
    elif decision == "reject" and not reason:
        errors["reason"] = _("Donnez le motif du refus : il est envoyé à la personne.")
    if reason and has_hidden_characters(reason.replace("\n", " ").replace("\r", "")):
        errors["reason"] = _("Le motif contient un caractère invisible ou de mise en forme.")
    if objection.status != ObjectionStatus.TO_REVIEW:
        errors["decision"] = _("Cette demande a déjà été examinée.")
    if errors:
        return _render_review(objection, form, errors, 400)
    status = ObjectionStatus.VERIFIED if decision == "accept" else ObjectionStatus.REJECTED
    service.change_status(db.session, objection, status, by=auth.actor(),
                          reason=reason if decision == "reject" else "")
    db.session.commit()
    deliver(objection.id)
    return redirect(url_for("objection_backoffice.queue", fait=objection.reference), code=303)


@bp.route("/<reference>/retrait", methods=["POST"])
@auth.require_role(Role.REVIEWER)
def settle_withdrawal(reference: str):
    objection = _filing(reference)
    form = WithdrawalForm()
    if not form.validate_on_submit() or form.decision.data not in ("keep", "lift") \
            or not objection.withdrawal_review:
        return _render_review(objection, DecisionForm(formdata=None), {
            "withdrawal": _("Choisissez de maintenir ou de lever l'opposition.")}, 400)
    service.settle_withdrawal_review(db.session, objection, lift=form.decision.data == "lift",
                                     by=auth.actor())
    db.session.commit()
    if objection.linked_to_id:
        deliver(objection.linked_to_id)
    return redirect(url_for("objection_backoffice.queue", fait=objection.reference), code=303)


@bp.route("/<reference>/deverrouiller", methods=["POST"])
@auth.require_role(Role.REVIEWER)
def unlock(reference: str):
    objection = _filing(reference)
    if not ButtonForm().validate_on_submit():
        abort(400)
    service.unlock_followup(db.session, objection, by=auth.actor())
    db.session.commit()
    return redirect(url_for("objection_backoffice.review", reference=objection.reference),
                    code=303)


@bp.route("/recherche")
@auth.require_role(Role.REVIEWER)
def find():
    """Open a filing by its reference (a person calling about their follow-up)."""
    reference = request.args.get("reference", "").strip().upper()[:20]
    objection = queries.get_by_reference(db.session, reference) if reference else None
    if objection is not None:
        return redirect(url_for("objection_backoffice.review", reference=reference), code=303)
    return make_response(render_template("objection_backoffice/find.html", reference=reference,
                                         missing=bool(reference)), 404 if reference else 200)
