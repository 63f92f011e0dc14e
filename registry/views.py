"""Public pages of the register: the listing, a project and its versions, data sources,
organisations. Thin: parse the request, answer 304 or call the queries, render."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from core.clock import local_today
from core.errors import render_error, wants_json
from core.extensions import db
from core.http_cache import with_validators
from registry import presenters, queries, rules, search, sections, statistics
from registry.codes import HEALTH_CONDITIONS, THEMES, ProjectStatus, parse_reference
from registry.listing import FACET_PARAMS, MAX_QUERY_LENGTH, ListingParams
from registry.models import Project
from registry.responses import (
    MAX_AGE,
    cached,
    keep_page,
    read_listing,
    run_search,
    source_names,
    unchanged,
    validators,
)
from registry.revisions import compare_revisions

bp = Blueprint("registry", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/registry")


def facet_choices(params: ListingParams, result: search.SearchResult
                  ) -> dict[str, list[tuple[str, int]]]:
    """Facet → (value, count) to draw: values with matches, and always the selected ones
    (with their count, even 0), so a filter never disappears from the form."""
    choices: dict[str, list[tuple[str, int]]] = {}
    for facet in FACET_PARAMS.values():
        counts = list(result.facets.get(facet, []))
        if facet == "overdue":
            counts = [(v, c) for v, c in counts if v == "oui"]
        present = {value for value, _count in counts}
        counts += [(value, 0) for value in params.filters.get(facet, []) if value not in present]
        if facet == "year":
            counts.sort(key=lambda kv: kv[0], reverse=True)
        choices[facet] = counts
    return choices


@bp.route("/projets")
def project_list():
    params = read_listing()
    etag, changed = validators("list", daily=True, searched=True)
    response = unchanged(etag, changed)
    if response is not None:
        return response
    result = run_search(params)
    projects = queries.projects_by_ids(db.session, result.ids)
    names = source_names()
    sponsors = presenters.sponsor_names(db.session, params.filters.get("sponsor", []))
    today = local_today()
    response = make_response(render_template(
        "registry/list.html", params=params, result=result, projects=projects,
        max_query_length=MAX_QUERY_LENGTH,
        states={p.id: rules.results_status(p, today) for p in projects},
        facet_label=lambda f, v: presenters.facet_label(f, v, names, sponsors),
        facet_titles=presenters.FACET_TITLES, source_names=names,
        choices=facet_choices(params, result),
        facet_params={facet: param for param, facet in FACET_PARAMS.items()},
        sorts=[("pertinence", _("Pertinence")), ("recent", _("Mises à jour récentes")),
               ("titre", _("Titre")), ("reference", _("Référence")), ("annee", _("Année"))],
    ))
    return keep_page(with_validators(response, etag, changed, max_age=MAX_AGE))


class UnknownProject(NotFound):
    """No project has this reference: its page (and its versions' page) answers a 404 that
    offers to search the register."""

    def __init__(self, reference: str):
        super().__init__()
        self.reference = reference


def _project_or_404(reference: str) -> Project:
    project = queries.get_project(db.session, reference)
    if project is None:
        raise UnknownProject(reference)
    return project


@bp.errorhandler(UnknownProject)
def unknown_project(error: UnknownProject):
    """The site's 404 page, with the register's search: prefilled with the typed reference
    only when it is one (``HDH-2024-0123``, or ``2024-0123``), so no text from the address
    is ever shown as the site's own."""
    reference = parse_reference(error.reference) or parse_reference(f"HDH-{error.reference}")
    title = _("Projet introuvable")
    if reference:
        message = _("Aucun projet du registre ne porte la référence %(reference)s. Vérifiez-la, "
                    "ou cherchez le projet par un mot de son titre, une maladie ou son "
                    "promoteur.", reference=reference)
    else:
        message = _("Cette adresse ne correspond à aucun projet du registre. Cherchez le "
                    "projet par sa référence, un mot de son titre, une maladie ou son "
                    "promoteur.")
    if wants_json():
        return render_error(404, title, message)
    return render_template("error.html", code=404, title=title, message=message,
                           project_search=reference or "",
                           max_query_length=MAX_QUERY_LENGTH), 404


@bp.route("/projets/<reference>")
def project_detail(reference: str):
    def context() -> dict:
        project = _project_or_404(reference)
        today = local_today()
        return dict(
            project=project, state=rules.results_status(project, today),
            accepts_objections=rules.accepts_objections(project, today),
            objections_closed_since=rules.objections_closed_since(project, today),
            statuses=list(ProjectStatus), themes=THEMES,
            json_ld=json.dumps(_json_ld(project, current_app.config["SITE_URL"]),
                               ensure_ascii=False).replace("</", "<\\/"),
            project_sections=sections.rendered(project))

    # Sections other packages add (registry.sections) follow their own versions too.
    return cached("registry/detail.html", context, daily=True, versions=sections.versions())


@bp.route("/projets/<reference>/versions")
def project_versions(reference: str):
    """Side-by-side comparison of two published versions of a project."""
    try:
        new_number, old_number = (None if request.args.get(name) is None
                                  else int(request.args[name]) for name in ("a", "de"))
    except ValueError:
        abort(400, description=_("Les numéros de version doivent être des nombres entiers."))

    def context() -> dict:
        project = _project_or_404(reference)
        revisions = {r.number: r for r in project.revisions}
        new = new_number if new_number is not None else max(revisions, default=1)
        old = old_number if old_number is not None else max(new - 1, 1)
        if old not in revisions or new not in revisions:
            abort(404)
        return dict(project=project, old=revisions[old], new=revisions[new],
                    changes=compare_revisions(revisions[old].snapshot, revisions[new].snapshot),
                    revisions=project.revisions)

    return cached("registry/versions.html", context)


def _json_ld(project: Project, site_url: str) -> dict:
    """The project as a schema.org MedicalStudy (JSON-LD in its page)."""
    return {
        "@context": "https://schema.org",
        "@type": "MedicalStudy",
        "identifier": project.reference,
        "name": project.title,
        "description": project.summary,
        "inLanguage": "fr",
        "url": f"{site_url}/projets/{project.reference}",
        "sponsor": {"@type": "Organization", "name": project.sponsor.name,
                    "address": project.sponsor.city or None},
        "status": rules.study_status(project),
        "healthCondition": [{"@type": "MedicalCondition", "name": str(HEALTH_CONDITIONS[t])}
                            for t in project.themes or [] if t in HEALTH_CONDITIONS],
        "studySubject": project.population or None,
        "dateModified": project.updated_at.isoformat(),
        "studyLocation": {"@type": "AdministrativeArea", "name": "France"},
    }


@bp.route("/sources")
def source_list():
    return cached("registry/sources.html", lambda: dict(
        sources=queries.list_sources(db.session),
        counts=queries.source_project_counts(db.session)), catalogue=True)


@bp.route("/sources/<code>")
def source_detail(code: str):
    def context() -> dict:
        source = queries.get_source(db.session, code)
        if source is None:
            abort(404)
        return dict(source=source, projects=sorted(source.projects, key=lambda p: p.updated_at,
                                                   reverse=True))

    return cached("registry/source.html", context, catalogue=True)


@bp.route("/organisations/<slug>")
def organisation_detail(slug: str):
    def context() -> dict:
        organisation = queries.get_organisation(db.session, slug)
        if organisation is None:
            abort(404)
        today = local_today()
        projects = queries.organisation_projects(db.session, organisation)
        return dict(organisation=organisation, projects=projects,
                    role_labels=presenters.ROLE_LABELS,
                    record=statistics.sponsor_record(db.session, organisation, today),
                    states={p.id: rules.results_status(p, today) for p, _roles in projects})

    return cached("registry/organisation.html", context, daily=True)
