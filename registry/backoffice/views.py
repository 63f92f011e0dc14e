"""Editors' pages. Thin: parse the form, call ``registry.service``, commit, render; the
register's checks give the messages (one per field), and nothing typed is lost."""

from __future__ import annotations

import json
from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.clock import local_today
from core.extensions import db
from registry import queries, rules, service
from registry.backoffice import bp
from registry.backoffice.diff import changes
from registry.backoffice.forms import (
    PROJECT_FIELDS,
    ButtonForm,
    OrganisationForm,
    ResultForm,
    StatusForm,
    project_data,
)
from registry.codes import (
    THEMES,
    LegalBasis,
    OrganisationKind,
    ProcessingLocation,
    ProjectStatus,
    ResultKind,
)
from registry.models import Project
from registry.revisions import project_input
from registry.validation import InvalidProject, RegistryError
from staff import auth
from staff.models import Role

EDITOR = Role.EDITOR


def _project(reference: str) -> Project:
    project = queries.get_project(db.session, reference, drafts=True)
    if project is None:
        abort(404)
    return project


def _choices() -> dict[str, list[tuple[str, str]]]:
    """The code lists the project form offers."""
    return {
        "sponsor_kind": [(k.value, k.label) for k in OrganisationKind],
        "legal_basis": [(k.value, k.label) for k in LegalBasis],
        "processing_location": [(k.value, k.label) for k in ProcessingLocation],
        "status": [(k.value, k.label) for k in ProjectStatus],
        "themes": [(code, str(label)) for code, label in THEMES.items()],
        "sources": [(s.code, f"{s.code} — {s.name}") for s in queries.list_sources(db.session)],
    }


def _errors(error: InvalidProject) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors:
        found.setdefault(problem.field, problem.message)
    return found


def _render_form(values: dict, errors: dict[str, str], project: Project | None,
                 status: int = 200):
    return render_template("registry_backoffice/project_form.html", values=values,
                           errors=errors, project=project, fields=PROJECT_FIELDS,
                           choices=_choices(), button=ButtonForm()), status


@bp.route("/")
@auth.require_role(EDITOR)
def projects():
    text = request.args.get("q", "")[:100]
    return render_template("registry_backoffice/projects.html", q=text,
                           projects=queries.staff_projects(db.session, text))


@bp.route("/projets/nouveau", methods=["GET", "POST"])
@auth.require_role(EDITOR)
def project_new():
    if request.method == "GET":
        return _render_form({"objections_applied": True, "status": "depose"}, {}, None)
    if not ButtonForm().validate_on_submit():
        abort(400)
    data = project_data(request.form, creating=True)
    if queries.get_project(db.session, data["reference"], drafts=True) is not None:
        return _render_form(data, {"reference": _("Un projet porte déjà cette référence.")},
                            None, 400)
    try:
        project, _changed = service.save_project(db.session, data, by=auth.actor(), draft=True)
    except InvalidProject as error:
        db.session.rollback()
        return _render_form(data, _errors(error), None, 400)
    db.session.commit()
    return redirect(url_for("registry_backoffice.project", reference=project.reference,
                            fait="cree"), code=303)


@bp.route("/projets/<reference>", methods=["GET", "POST"])
@auth.require_role(EDITOR)
def project(reference: str):
    found = _project(reference)
    if request.method == "GET":
        return render_template(
            "registry_backoffice/project.html", project=found, button=ButtonForm(),
            statuses=list(ProjectStatus), result_kinds=list(ResultKind),
            status_form=StatusForm(formdata=None), result_form=ResultForm(formdata=None),
            errors={}, done=request.args.get("fait", ""))
    if not ButtonForm().validate_on_submit():
        abort(400)
    data = project_data(request.form, creating=False)
    data["reference"] = found.reference
    try:
        _saved, changed = service.save_project(db.session, data, by=auth.actor())
    except InvalidProject as error:
        db.session.rollback()
        return _render_form(data, _errors(error), found, 400)
    db.session.commit()
    return redirect(url_for("registry_backoffice.project", reference=found.reference,
                            fait="enregistre" if changed else "inchange"), code=303)


@bp.route("/projets/<reference>/modifier")
@auth.require_role(EDITOR)
def project_edit(reference: str):
    found = _project(reference)
    return _render_form(project_input(found), {}, found)


@bp.route("/projets/<reference>/apercu")
@auth.require_role(EDITOR)
def preview(reference: str):
    """The project's public page as it will look, before publishing (never cached)."""
    found = _project(reference)
    today = local_today()
    return render_template(
        "registry_backoffice/preview.html", project=found,
        state=rules.results_status(found, today),
        accepts_objections=rules.accepts_objections(found, today),
        objections_closed_since=rules.objections_closed_since(found, today),
        statuses=list(ProjectStatus), themes=THEMES, json_ld=json.dumps({}),
        project_sections=[])


@bp.route("/projets/<reference>/publication", methods=["POST"])
@auth.require_role(EDITOR)
def publication(reference: str):
    found = _project(reference)
    if not ButtonForm().validate_on_submit():
        abort(400)
    publish = request.form.get("publier") == "oui"
    service.set_published(db.session, found, published=publish, by=auth.actor())
    db.session.commit()
    return redirect(url_for("registry_backoffice.project", reference=found.reference,
                            fait="publie" if publish else "retire"), code=303)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _render_project(found: Project, errors: dict[str, str], status_form=None, result_form=None):
    return render_template(
        "registry_backoffice/project.html", project=found, button=ButtonForm(),
        statuses=list(ProjectStatus), result_kinds=list(ResultKind),
        status_form=status_form or StatusForm(formdata=None),
        result_form=result_form or ResultForm(formdata=None), errors=errors, done=""), 400


@bp.route("/projets/<reference>/statut", methods=["POST"])
@auth.require_role(EDITOR)
def status(reference: str):
    found = _project(reference)
    form = StatusForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        errors["note"] = _("Un champ est trop long.")
    on = _day(form.on.data or "")
    if form.status.data not in {s.value for s in ProjectStatus}:
        errors["status"] = _("Choisissez le nouveau statut.")
    if on is None:
        errors["on"] = _("Saisissez la date de l'étape, par exemple 2026-03-16.")
    if errors:
        return _render_project(found, errors, status_form=form)
    try:
        service.record_status(db.session, found, status=form.status.data, on=on,
                              by=auth.actor(), decision_number=form.decision_number.data or "",
                              note=form.note.data or "")
    except (InvalidProject, RegistryError) as error:
        db.session.rollback()
        problems = _errors(error) if isinstance(error, InvalidProject) else {
            error.field: error.message}
        return _render_project(_project(reference), {"status": "; ".join(problems.values())},
                               status_form=form)
    db.session.commit()
    return redirect(url_for("registry_backoffice.project", reference=found.reference,
                            fait="statut"), code=303)


@bp.route("/projets/<reference>/resultats", methods=["POST"])
@auth.require_role(EDITOR)
def result(reference: str):
    found = _project(reference)
    form = ResultForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        errors["summary"] = _("Un champ est trop long.")
    published_on = _day(form.published_on.data or "")
    if form.kind.data not in {k.value for k in ResultKind}:
        errors["kind"] = _("Choisissez le type de résultat.")
    if not (form.title.data or "").strip():
        errors["result_title"] = _("Saisissez le titre du résultat.")
    if published_on is None:
        errors["published_on"] = _("Saisissez la date de publication, par exemple 2026-03-16.")
    if errors:
        return _render_project(found, errors, result_form=form)
    try:
        service.add_result(db.session, found, kind=form.kind.data, title=form.title.data.strip(),
                           published_on=published_on, by=auth.actor(),
                           url=(form.url.data or "").strip(), doi=(form.doi.data or "").strip(),
                           summary=(form.summary.data or "").strip())
    except InvalidProject as error:
        db.session.rollback()
        return _render_project(_project(reference), {"result_title": "; ".join(
            _errors(error).values())}, result_form=form)
    db.session.commit()
    return redirect(url_for("registry_backoffice.project", reference=found.reference,
                            fait="resultat"), code=303)


@bp.route("/projets/<reference>/historique")
@auth.require_role(EDITOR)
def history(reference: str):
    found = _project(reference)
    revisions = list(found.revisions)
    entries = []
    previous = None
    for revision in revisions:
        entries.append((revision, changes(previous, revision.snapshot)))
        previous = revision.snapshot
    return render_template("registry_backoffice/history.html", project=found,
                           entries=list(reversed(entries)))


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
@auth.require_role(EDITOR)
def organisation(slug: str):
    found = queries.get_organisation(db.session, slug)
    if found is None:
        abort(404)
    form = OrganisationForm(data={"kind": str(found.kind), "city": found.city})
    errors: dict[str, str] = {}
    done = ""
    if request.method == "POST":
        if not form.validate_on_submit():
            errors["city"] = _("La ville doit faire 120 caractères au plus.")
        elif form.kind.data not in {k.value for k in OrganisationKind}:
            errors["kind"] = _("Choisissez le type d'organisation.")
        else:
            try:
                changed = service.update_organisation(db.session, found, kind=form.kind.data,
                                                      city=(form.city.data or "").strip())
            except RegistryError as error:
                db.session.rollback()
                errors[error.field.removeprefix("sponsor_")] = error.message
            else:
                if changed:
                    service.record_organisation_change(db.session, found, by=auth.actor())
                db.session.commit()
                done = _("Organisation enregistrée.") if changed else _("Rien n'a changé.")
    return render_template("registry_backoffice/organisation.html", organisation=found,
                           form=form, errors=errors, done=done,
                           kinds=list(OrganisationKind)), 400 if errors else 200
