"""Filings received by post or telephone, recorded by a reviewer for the person (the same
checks as the web form, the channel recorded, the receipt mailed or printed as a letter), and
the letters to print for people who gave a postal address."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from core.extensions import db
from objection import letters, references, service
from objection.backoffice import bp
from objection.backoffice.review import ButtonForm, deliver
from objection.forms import MAX_DOCUMENT_BYTES, ObjectionForm
from objection.models import Objection
from registry.queries import project_for_objection
from staff import auth
from staff.models import Role

CHANNELS = {"post": "courrier", "phone": "téléphone"}


def _lookup(reference: str):
    return project_for_objection(db.session, reference)


def _render(form: ObjectionForm | None, token: str, channel: str, errors: dict[str, str],
            status: int = 200):
    values = form.values if form else {}
    return make_response(render_template(
        "objection_backoffice/assisted.html", values=values, token=token, channel=channel,
        errors=form.ordered_errors() if form else [], error_map=errors, button=ButtonForm(),
        max_document_mb=MAX_DOCUMENT_BYTES // 2**20), status)


@bp.route("/nouvelle", methods=["GET", "POST"])
@auth.require_role(Role.REVIEWER)
def assisted():
    if request.method == "GET":
        return _render(None, references.new_submission_token(), "post", {})
    if not ButtonForm().validate_on_submit():
        abort(400)
    token = "".join(c for c in request.form.get("token", "") if c.isalnum())[:64] \
        or references.new_submission_token()
    channel = request.form.get("channel", "")
    form = ObjectionForm(request.form, request.files, project_lookup=_lookup)
    valid = form.validate()
    errors = dict(form.errors)
    if channel not in CHANNELS:
        errors["channel"] = _("Indiquez comment la demande est arrivée.")
        form.errors["channel"] = errors["channel"]
    if not valid or "channel" in errors:
        return _render(form, token, channel, errors, 400)
    data = form.to_input(str(get_locale()))
    filing = service.file_objection(db.session, data, form_token=token, channel=channel,
                                    by=auth.actor())
    db.session.commit()
    deliver(filing.objection.id)
    return make_response(render_template(
        "objection_backoffice/assisted_done.html", objection=filing.objection,
        code=filing.followup_code, channel=channel,
        by_letter=bool(letters.address_of(db.session, filing.objection))
        and not service.email_of(filing.objection)))


@bp.route("/courriers")
@auth.require_role(Role.REVIEWER)
def letters_list():
    waiting = letters.to_print(db.session)
    return render_template("objection_backoffice/letters.html", letters=waiting,
                           button=ButtonForm())


@bp.route("/courriers/<int:letter_id>")
@auth.require_role(Role.REVIEWER)
def letter(letter_id: int):
    """One letter, laid out to print (address block, then the text)."""
    found = db.session.get(letters.Letter, letter_id)
    if found is None:
        abort(404)
    objection = db.session.get(Objection, found.objection_id)
    return render_template("objection_backoffice/letter.html", letter=found,
                           address=letters.address_of(db.session, objection),
                           button=ButtonForm())


@bp.route("/courriers/<int:letter_id>/envoye", methods=["POST"])
@auth.require_role(Role.REVIEWER)
def letter_sent(letter_id: int):
    found = db.session.get(letters.Letter, letter_id)
    if found is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    letters.mark_printed(db.session, found, by=auth.actor())
    db.session.commit()
    return redirect(url_for("objection_backoffice.letters_list"), code=303)
