"""The objection form, its review step, the receipt and the follow-up. Thin: parse, call
``objection.service`` (or a query), commit, render."""

from __future__ import annotations

import base64
import logging
import time
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from core.clock import utcnow
from core.extensions import csrf, db, limiter
from core.ratelimit import client_address
from core.security import no_store
from objection import documents, limits, mail, queries, references, service
from objection.followup import FollowUpLocked, find_for_followup
from objection.forms import MAX_DOCUMENT_BYTES, ObjectionForm, closed_reason
from objection.keys import KeyConfigError, keyring, sealer
from objection.models import Filer, ObjectionStatus, Scope
from registry.queries import project_for_objection

bp = Blueprint("objection", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/objection")
log = logging.getLogger(__name__)
# The form with its document may weigh this much (the site's MAX_CONTENT_LENGTH is 12 MB): a
# document over 5 MB is read only up to its limit and gets its message next to its field, the
# answers kept. Phone scans and photos of several pages stay well under it; past it, the form's
# own 413 page explains. Bounded by the filing rate limit; the file part is spooled to disk.
FORM_MAX_REQUEST_BYTES = 50 * 1024 * 1024


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


RECEIPT_CODE_SHOWN_FOR = timedelta(minutes=30)
TOKENS_KEPT = 10


def _issue_token() -> str:
    """A one-time token for a new form, remembered in this browser's session: a token copied
    into another browser, or forged, is not accepted for filing."""
    token = references.new_submission_token()
    session["objection_tokens"] = [*session.get("objection_tokens", []), token][-TOKENS_KEPT:]
    return token


def _session_token(posted: str) -> str | None:
    """The posted token if this session issued it."""
    return posted if posted and posted in session.get("objection_tokens", []) else None


def _render_form(form: ObjectionForm | None = None, token: str | None = None,
                 notice: str | None = None, status: int = 200, retry_after: int | None = None):
    values = form.values if form else {"filer": "", "scope": "", "project_reference": ""}
    project = request.args.get("projet", "").upper() or values.get("project_reference", "")
    if project and not values.get("scope"):
        values = dict(values, scope="project", project_reference=project)
    token = token or _issue_token()
    # The project the form is about, named next to its reference (arriving from its page).
    named = _lookup(values["project_reference"]) if values.get("project_reference") else None
    response = make_response(render_template(
        "objection/form.html", values=values, errors=form.ordered_errors() if form else [],
        error_map=form.errors if form else {}, token=token, notice=notice,
        has_pending=documents.pending_document_path(token).exists(),
        pending_name=documents.pending_document_name(token), project=named,
        max_document_bytes=MAX_DOCUMENT_BYTES, max_document_mb=MAX_DOCUMENT_BYTES // 2**20,
        csrf_token=generate_csrf()), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return no_store(response)


def _wait_notice(seconds: int) -> str:
    """When the form can be sent again, in words ("dans 12 minutes")."""
    when = format_timedelta(timedelta(seconds=seconds), granularity="minute",
                            add_direction=True)
    return _("Trop de demandes ont été envoyées depuis votre connexion en peu de temps. Vos "
             "réponses sont conservées : vous pourrez envoyer le formulaire %(when)s.",
             when=when)


def _filing_refused(form: ObjectionForm, token: str):
    """The form again, answers kept, with a 429, when a new filing would break a filing limit
    (``objection.limits``); None when it may go ahead."""
    nir = form.parsed_nir()
    if nir is None:
        return None
    pseudonym = keyring().pseudonymise(nir.value)[1]
    breach = limits.filing_refused(pseudonym, form.email_ascii or form.values["email"])
    if breach is None:
        return None
    if breach.by_address:
        notice = _wait_notice(breach.retry_after)
    else:
        notice = _("Trop de demandes ont été faites aujourd'hui pour cette personne ou avec "
                   "cette adresse électronique. Vos réponses sont conservées : réessayez dans "
                   "24 heures.")
    return _render_form(form, token, notice=notice, status=429, retry_after=breach.retry_after)


def _count_filing(form: ObjectionForm) -> None:
    nir = form.parsed_nir()
    if nir is not None:
        limits.count_filing(keyring().pseudonymise(nir.value)[1],
                            form.email_ascii or form.values["email"])


class DocumentTooLarge(RequestEntityTooLarge):
    """The form (the one route that takes a document) was sent with a body over its limit."""


@bp.url_value_preprocessor
def _form_request_limit(endpoint: str | None, _values: dict | None) -> None:
    """Raise this request's body limit for the form (Flask 3.1 ``request.max_content_length``).
    Set here, the earliest hook a blueprint has, because the site's NUL-byte check parses the
    form in an application ``before_request``, before the view runs. The form is parsed here
    too, so that a body over the limit is told apart from a 413 on any other route."""
    if endpoint == "objection.review" and request.method == "POST":
        request.max_content_length = FORM_MAX_REQUEST_BYTES
        try:
            request.form  # noqa: B018 -- parsed (and kept) now, to catch its 413 here
        except RequestEntityTooLarge as error:
            raise DocumentTooLarge() from error


@bp.errorhandler(DocumentTooLarge)
def _too_large(_error):
    """Past the form's limit the body is not read, so the form cannot be shown again: a page
    that says what the limit is and how to go back to the answers. Only for the form: any other
    413 (a route without a document) gets the site's generic page (``core.errors``)."""
    return no_store(make_response(render_template(
        "objection/too_large.html", max_mb=MAX_DOCUMENT_BYTES // 2**20), 413))


def _lookup(reference: str):
    return project_for_objection(db.session, reference)


@bp.route("/opposition", methods=["GET"])
def start():
    return _render_form()


# Where paper filings go, and the telephone line (demonstration values).
POSTAL_ADDRESS = ("Plateforme des données de santé (démonstration)\n"
                  "Service des oppositions\nLibre réponse 00000\n75000 PARIS")
PHONE = "0 800 00 00 00"


@bp.route("/opposition/formulaire-papier")
def paper_form():
    """The form to print and post, the postal address and the telephone line: not everyone
    can use a web form (docs/objection.md, "Assisted channel")."""
    return render_template("objection/paper_form.html", postal_address=POSTAL_ADDRESS,
                           phone=PHONE)


@bp.route("/projets/<reference>/opposition")
def start_for_project(reference: str):
    project = project_for_objection(db.session, reference)
    if project is None:
        abort(404)
    if not project.accepts_objections:
        return no_store(make_response(render_template(
            "objection/project_closed.html", project=project, reason=closed_reason(project))))
    return redirect(url_for("objection.start", projet=project.reference))


@bp.route("/opposition", methods=["POST"])
@csrf.exempt
@limiter.shared_limit(limits.form_posts, scope="objection-form", methods=["POST"])
def review():
    form = ObjectionForm(request.form, request.files, project_lookup=_lookup)
    token = _session_token(request.form.get("token", ""))
    if not _csrf_ok():
        return _render_form(form, token, notice=_expired_notice())
    token = token or _issue_token()
    valid = form.validate(pending_document=documents.pending_document(token))
    upload = form.file if form.document and form.file is not None and form.file.filename \
        else None
    if upload is not None:
        # Kept as soon as it passed its own checks, so a mistake elsewhere does not lose it.
        documents.keep_pending_document(token, form.document or b"", upload.filename or "",
                                        others=session.get("objection_tokens", []))
    if not valid:
        return _render_form(form, token)
    refused = _filing_refused(form, token)
    if refused is not None:
        return refused
    document_name = (upload.filename if upload is not None
                     else documents.pending_document_name(token))
    return no_store(make_response(render_template(
        "objection/review.html", values=form.values, project=form.project, token=token,
        birth_date=form.birth_date(), document_type=form.document_type,
        document_name=documents.display_name(document_name or ""),
        document_size=len(form.document or b""), csrf_token=generate_csrf())))


def _submission(form: ObjectionForm, token: str) -> references.Submission | None:
    """This sending of the form, worked out once (the NIR pseudonymised once), or None when
    the NIR is not one."""
    nir = form.parsed_nir()
    if nir is None:
        return None
    return references.submission(token, nir, form.values["scope"],
                                 form.values["project_reference"], form.values["filer"])


@bp.route("/opposition/envoyer", methods=["POST"])
@csrf.exempt
@limiter.shared_limit(limits.form_posts, scope="objection-form", methods=["POST"])
def submit():
    form = ObjectionForm(request.form, None, project_lookup=_lookup)
    token = _session_token(request.form.get("token", ""))
    if request.form.get("action") == "modifier":
        _csrf_ok()
        return _render_form(form, token)
    if not _csrf_ok() or token is None:
        return _render_form(form, token, notice=_expired_notice())
    # The same form sent again (a double click, a retry) gets its receipt, counted once: its
    # answers may no longer pass the checks (its document was used, a birthday came).
    sent = _submission(form, token)
    filing = queries.find_filing(db.session, sent) if sent is not None else None
    if filing is None:
        if not form.validate(pending_document=documents.pending_document(token)):
            return _render_form(form, token)
        refused = _filing_refused(form, token)
        if refused is not None:
            return refused
        # Durable before any receipt is shown; the same form sent again is the same filing.
        filing = service.file_objection(db.session, form.to_input(str(get_locale())),
                                        form_token=token, known=sent)
        db.session.commit()
        _count_filing(form)
        documents.forget_pending_document(token)
        _deliver_now(filing.objection.id)
    receipts = session.get("receipts", {})
    receipts[filing.objection.reference] = {
        "code": base64.b64encode(sealer().seal_text(filing.followup_code, "followup")).decode(),
        "until": (utcnow() + RECEIPT_CODE_SHOWN_FOR).timestamp(),
    }
    session["receipts"] = dict(list(receipts.items())[-5:])
    return redirect(url_for("objection.receipt", reference=filing.objection.reference), code=303)


@bp.route("/opposition/accuse-de-reception/<reference>")
def receipt(reference: str):
    kept = session.get("receipts", {}).get(reference)
    if not isinstance(kept, dict):
        abort(404)  # only the browser that filed it sees the receipt
    objection = queries.get_by_reference(db.session, reference)
    if objection is None:
        abort(404)
    code = None
    if utcnow().timestamp() < kept.get("until", 0):
        try:
            code = sealer().open_text(base64.b64decode(kept["code"]), "followup")
        except (KeyConfigError, InvalidTag, ValueError):
            code = None
    return no_store(make_response(render_template("objection/receipt.html",
                                                  objection=objection, code=code)))


@bp.route("/opposition/suivi", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(limits.followup_posts, methods=["POST"])
def followup():
    if request.method == "GET":
        return _followup_page("")
    reference = request.form.get("reference", "").strip()[:40]
    code = request.form.get("code", "").strip()[:40]
    if not _csrf_ok():
        return _followup_page(reference, _("Pour votre sécurité, le formulaire avait expiré. "
                                           "Envoyez-le à nouveau."))
    missing = {}
    if not reference:
        missing["reference"] = _("Saisissez la référence de votre demande. Elle figure sur "
                                 "l'accusé de réception et dans le courriel de confirmation.")
    if not code:
        missing["code"] = _("Saisissez le code de suivi. Il figure sur l'accusé de réception "
                            "affiché après l'envoi de la demande.")
    if missing:  # nothing to look up: no wrong code is counted
        return _followup_page(reference, errors=missing)
    try:
        objection = find_for_followup(db.session, reference, code,
                                      address=client_address())
    except FollowUpLocked:
        db.session.commit()
        return _followup_page(reference, _("Trop d'essais avec un code incorrect. Pour "
                                           "protéger cette demande, réessayez dans 30 "
                                           "minutes."), 429)
    db.session.commit()
    if objection is None:
        return _followup_page(reference, _("Référence ou code de suivi incorrect. Vérifiez "
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
        events=queries.timeline(objection), can_withdraw=queries.can_withdraw(objection),
        statuses=ObjectionStatus, csrf_token=generate_csrf(),
        withdrawn_now=action == "confirmer-retrait")))


def _followup_page(reference: str, message: str | None = None, status: int = 200,
                   errors: dict[str, str] | None = None):
    """The follow-up form, the reference kept: ``message`` about both fields, or ``errors``
    by field (a field left empty)."""
    return no_store(make_response(render_template(
        "objection/followup.html", reference=reference, error=message, errors=errors or {},
        csrf_token=generate_csrf()), status))


@bp.errorhandler(RateLimitExceeded)
def _too_many(error: RateLimitExceeded):
    """Too many POSTs from one address (``limits.FORM_POSTS``, ``FOLLOWUP_POSTS``): the page
    the person was filling in, with every answer kept and when to try again, not a bare error
    page."""
    current = limiter.current_limit
    retry_after = max(1, int(current.reset_at - time.time())) if current else 60
    if request.endpoint in ("objection.review", "objection.submit"):
        form = ObjectionForm(request.form, None, project_lookup=_lookup)
        return _render_form(form, _session_token(request.form.get("token", "")),
                            notice=_wait_notice(retry_after), status=429,
                            retry_after=retry_after)
    response = _followup_page(request.form.get("reference", "").strip()[:40],
                              _wait_notice(retry_after), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.app_context_processor
def objection_helpers() -> dict:
    return {"Filer": Filer, "Scope": Scope, "now_utc": utcnow}
