"""The objection form, its review step, the receipt and the follow-up. Thin: parse, call
``objection.service``, commit, render."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import ValidationError

from objection import mail, service
from objection.forms import ObjectionForm
from objection.models import Filer, Objection, ObjectionStatus, Scope
from objection.pseudonym import sealer
from registry.service import project_for_objection
from website.extensions import csrf, db, limiter
from website.security import no_store

bp = Blueprint("objection", __name__, template_folder="templates")
log = logging.getLogger(__name__)
FILING_LIMIT = "10 per minute;60 per day"
FOLLOWUP_LIMIT = "10 per minute;100 per day"


def _csrf_ok() -> bool:
    """False when the token expired or is wrong (the form is shown again, input kept);
    a POST without any token is refused outright."""
    token = request.form.get("csrf_token")
    if not token:
        raise CSRFError(_("Le jeton de sécurité du formulaire est absent."))
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True


def _expired_notice() -> str:
    return _("Pour votre sécurité, le formulaire avait expiré. Vérifiez vos informations puis "
             "envoyez-les à nouveau.")


def _deliver_now(objection_id: int) -> None:
    """Best effort, after the commit: a failure leaves the mail queued for `flask outbox send`."""
    try:
        mail.send_pending(db.session, objection_id=objection_id)
    except Exception:
        log.exception("immediate mail delivery failed; the outbox will retry")
        db.session.rollback()


def _pending_path(token: str) -> Path:
    safe = "".join(c for c in token if c.isalnum())[:64]
    return Path(current_app.config["INSTANCE_DIR"]) / "uploads" / "pending" / f"{safe}.bin"


def _pending_document(token: str) -> bytes | None:
    path = _pending_path(token)
    if not path.exists():
        return None
    return sealer().open(path.read_bytes(), b"pending-document")


def _keep_pending_document(token: str, content: bytes) -> None:
    path = _pending_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sealer().seal(content, b"pending-document"))


def _render_form(form: ObjectionForm | None = None, token: str | None = None,
                 notice: str | None = None, status: int = 200):
    values = form.values if form else {"filer": "", "scope": "", "project_reference": ""}
    project = request.args.get("projet", "").upper() or values.get("project_reference", "")
    if project and not values.get("scope"):
        values = dict(values, scope="project", project_reference=project)
    response = make_response(render_template(
        "objection/form.html", values=values, errors=form.ordered_errors() if form else [],
        error_map=form.errors if form else {}, token=token or service.new_submission_token(),
        notice=notice, has_pending=bool(token and _pending_path(token).exists()),
        csrf_token=generate_csrf()), status)
    return no_store(response)


def _lookup(reference: str):
    return project_for_objection(db.session, reference)


@bp.route("/opposition", methods=["GET"])
def start():
    return _render_form()


@bp.route("/projets/<reference>/opposition")
def start_for_project(reference: str):
    project = project_for_objection(db.session, reference)
    if project is None:
        abort(404)
    if not project.accepts_objections:
        return no_store(make_response(render_template("objection/project_closed.html",
                                                      project=project)))
    return redirect(url_for("objection.start", projet=project.reference))


@bp.route("/opposition", methods=["POST"])
@csrf.exempt
@limiter.limit(FILING_LIMIT, methods=["POST"])
def review():
    token = request.form.get("token") or service.new_submission_token()
    form = ObjectionForm(request.form, request.files, project_lookup=_lookup)
    if not _csrf_ok():
        return _render_form(form, token, notice=_expired_notice())
    if not form.validate(pending_document=_pending_document(token)):
        return _render_form(form, token)
    if form.document and form.file is not None and form.file.filename:
        _keep_pending_document(token, form.document)
    return no_store(make_response(render_template(
        "objection/review.html", values=form.values, project=form.project, token=token,
        birth_date=form.birth_date(), document_type=form.document_type,
        csrf_token=generate_csrf())))


@bp.route("/opposition/envoyer", methods=["POST"])
@csrf.exempt
@limiter.limit(FILING_LIMIT, methods=["POST"])
def submit():
    token = request.form.get("token", "")
    form = ObjectionForm(request.form, None, project_lookup=_lookup)
    if request.form.get("action") == "modifier":
        _csrf_ok()
        return _render_form(form, token)
    if not _csrf_ok():
        return _render_form(form, token, notice=_expired_notice())
    if len(token) != 32 or not token.isalnum():
        abort(400)
    if not form.validate(pending_document=_pending_document(token)):
        return _render_form(form, token)
    existing = service.find_by_token(db.session, token)
    if existing is None:
        try:
            objection = service.file_objection(db.session, form.to_input(str(get_locale())),
                                               idempotency_key=token)
            db.session.commit()  # durable before any receipt is shown
        except IntegrityError:
            db.session.rollback()  # the same form, sent twice at once: one objection
            objection = service.find_by_token(db.session, token)
            if objection is None:
                raise
        else:
            _pending_path(token).unlink(missing_ok=True)
            _deliver_now(objection.id)
    else:
        objection = existing
    receipts = session.get("receipts", {})
    receipts[objection.reference] = base64.b64encode(
        sealer().seal_text(service.followup_code(token), "followup")).decode()
    session["receipts"] = dict(list(receipts.items())[-5:])
    return redirect(url_for("objection.receipt", reference=objection.reference), code=303)


@bp.route("/opposition/accuse-de-reception/<reference>")
def receipt(reference: str):
    sealed = session.get("receipts", {}).get(reference)
    if sealed is None:
        abort(404)  # only the browser that filed it sees the receipt
    code = sealer().open_text(base64.b64decode(sealed), "followup")
    objection = db.session.scalar(select(Objection).where(Objection.reference == reference))
    if objection is None:
        abort(404)
    return no_store(make_response(render_template("objection/receipt.html",
                                                  objection=objection, code=code)))


@bp.route("/opposition/suivi", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(FOLLOWUP_LIMIT, methods=["POST"])
def followup():
    if request.method == "GET":
        return no_store(make_response(render_template(
            "objection/followup.html", reference="", error=None, csrf_token=generate_csrf())))
    reference = request.form.get("reference", "").strip()[:40]
    code = request.form.get("code", "").strip()[:40]
    if not _csrf_ok():
        return _followup_error(reference, _("Pour votre sécurité, le formulaire avait expiré. "
                                            "Envoyez-le à nouveau."))
    try:
        objection = service.find_for_followup(db.session, reference, code)
    except service.FollowUpLocked:
        db.session.commit()
        return _followup_error(reference, _("Trop d'essais avec un code incorrect. Pour "
                                            "protéger cette demande, réessayez dans 30 "
                                            "minutes."), 429)
    db.session.commit()
    if objection is None:
        return _followup_error(reference, _("Référence ou code de suivi incorrect. Vérifiez "
                                            "les deux, tels qu'ils figurent sur votre accusé "
                                            "de réception."))
    action = request.form.get("action", "")
    if action == "retirer":
        return no_store(make_response(render_template(
            "objection/withdraw_confirm.html", objection=objection, code=code,
            csrf_token=generate_csrf())))
    if action == "confirmer-retrait":
        service.withdraw(db.session, objection, by="citizen:web")
        db.session.commit()
        _deliver_now(objection.id)
    return no_store(make_response(render_template(
        "objection/status.html", objection=objection, code=code,
        events=service.timeline(objection), can_withdraw=service.can_withdraw(objection),
        statuses=ObjectionStatus, csrf_token=generate_csrf(),
        withdrawn_now=action == "confirmer-retrait")))


def _followup_error(reference: str, message: str, status: int = 200):
    return no_store(make_response(render_template(
        "objection/followup.html", reference=reference, error=message,
        csrf_token=generate_csrf()), status))


@bp.app_context_processor
def objection_helpers() -> dict:
    return {"Filer": Filer, "Scope": Scope, "now_utc": lambda: datetime.now(UTC)}
