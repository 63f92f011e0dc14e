"""Public pages of the register. Thin: parse the request, call the service and search, render."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from core.clock import local_today, start_of_local_day
from core.extensions import db
from core.http_cache import make_etag, not_modified, with_validators
from registry import presenters, search, service
from registry.charts import Bar, column_chart, horizontal_bar_chart
from registry.listing import (
    FACET_PARAMS,
    MAX_QUERY_LENGTH,
    BadListingRequest,
    ListingParams,
    parse_listing,
)
from registry.models import HEALTH_CONDITIONS, THEMES, OrganisationKind, ProjectStatus
from registry.validation import doi_name, web_address

bp = Blueprint("registry", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/registry")


MAX_AGE = 300  # seconds a shared cache may keep a register response without asking again


def _today() -> date:
    return local_today()


def code_version() -> tuple[str, datetime]:
    """(digest, newest modification) of what the register's static parts are made of: its
    Python code (the catalogue of data sources, the OpenAPI document, the shapes of the
    exports), every template (a page extends the layout and includes its parts: all of them
    are read), every compiled catalogue (the layout's strings are the website's) and the
    licence the open data state.

    Computed once per process, at first use: these change only with a deployment, which
    restarts the processes. In debug mode, templates reload, so it is worked out each time."""
    app = current_app
    cached = app.extensions.get("registry_code_version")
    if cached is not None and not app.debug:
        return cached
    from registry import api, catalogue, openapi

    env = app.jinja_env
    digest = hashlib.sha256(json.dumps(
        [api.LICENCE, catalogue.DATA_SOURCES, api.HEALTH_CATEGORIES,
         openapi.openapi_document("")], sort_keys=True, default=str).encode())
    paths: list[Path] = sorted(Path(__file__).parent.glob("*.py"))
    for path in paths:
        digest.update(f"\x00{path.name}\x00".encode())
        digest.update(path.read_bytes())
    for name in sorted(env.list_templates()):
        source, filename, _uptodate = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(f"\x00{name}\x00{source}".encode())
        if filename:
            paths.append(Path(filename))
    for directory in sorted(str(app.config["BABEL_TRANSLATION_DIRECTORIES"]).split(";")):
        for path in sorted(Path(directory).glob("*/LC_MESSAGES/*.mo")):
            digest.update(f"\x00{path.relative_to(directory)}\x00".encode())
            digest.update(path.read_bytes())
            paths.append(path)
    newest = max((path.stat().st_mtime for path in paths), default=0.0)
    version = (digest.hexdigest()[:32], datetime.fromtimestamp(newest, tz=UTC))
    app.extensions["registry_code_version"] = version
    return version


def validators(*parts: object, daily: bool = False, searched: bool = False,
               catalogue: bool = False) -> tuple[str, datetime | None]:
    """ETag and Last-Modified of a register response: the register's last change, the language,
    the URL and whatever else ``parts`` adds.

    ``daily`` marks responses that depend on today's date (overdue results, objection
    windows): their ETag includes the day and their Last-Modified is at least the start of
    today in France (``clock.start_of_local_day``), so a copy from yesterday is never answered
    "not modified".

    ``searched`` marks responses built from a search: they also follow the index's version
    (``search.index_version``: a token and a moment, one small file read), which changes
    without the database (a rebuild) or just after it (the index update after a commit).
    Read before the search runs, so a response is never older than its validators.

    ``catalogue`` marks responses that show the data sources: they also follow the sources as
    the database has them (``service.sources_version``: a sync changes it) and the code's
    version (``code_version``: a deployment changes it, and Last-Modified is at least the
    newest file of the code).
    """
    changed = service.last_change(db.session)
    today = _today()
    if daily:
        start = start_of_local_day(today)
        changed = max(changed, start) if changed else start
    index = ""
    if searched:
        index, moment = search.index_version(current_app._get_current_object())  # type: ignore[attr-defined]
        if moment is not None:
            changed = max(changed, moment) if changed else moment
    sources = ""
    if catalogue:
        code, built = code_version()
        sources = f"{code}:{service.sources_version(db.session)}"
        changed = max(changed, built) if changed else built
    return make_etag(changed, get_locale(), today if daily else "", request.path,
                     request.query_string, index, sources, *parts), changed


def unchanged(etag: str, changed: datetime | None, max_age: int = MAX_AGE) -> Response | None:
    """A 304 when the client's copy is current, with the headers a 200 would have had for
    caches (RFC 9110 §15.4.5: Cache-Control and Vary)."""
    response = not_modified(etag, changed)
    if response is not None:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        response.vary.add("Accept-Encoding")
    return response


def cached(template: str, *parts: object, daily: bool = False, catalogue: bool = False,
           **context):
    """Render ``template`` unless the client's copy is current (ETag / Last-Modified)."""
    etag, changed = validators(*parts, daily=daily, catalogue=catalogue)
    response = unchanged(etag, changed)
    if response is not None:
        return response
    response = make_response(render_template(template, **context))
    return with_validators(response, etag, changed, max_age=MAX_AGE)


def source_names() -> dict[str, str]:
    """Code → name of every data source, read once per request."""
    if "source_names" not in g:
        g.source_names = {s.code: s.name for s in service.list_sources(db.session)}
    return g.source_names


def read_listing() -> ListingParams:
    """The listing parameters of this request, or a 400 page with the French reason."""
    allowed = presenters.allowed_facet_values(list(source_names()))
    try:
        return parse_listing(request.args, allowed)
    except BadListingRequest as error:
        abort(400, description=str(error))


def run_search(params: ListingParams) -> search.SearchResult:
    backend = search.get_search_backend(current_app._get_current_object())  # type: ignore[attr-defined]
    return backend.search(search_query(params))


def search_query(params: ListingParams) -> search.SearchQuery:
    return search.SearchQuery(text=params.text, filters=params.filters,
                              sort=params.search_sort(), page=params.page,
                              per_page=params.per_page, today=_today())


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
    projects = service.projects_by_ids(db.session, result.ids)
    names = source_names()
    today = _today()
    response = make_response(render_template(
        "registry/list.html", params=params, result=result, projects=projects,
        max_query_length=MAX_QUERY_LENGTH,
        states={p.id: service.results_status(p, today) for p in projects},
        facet_label=lambda f, v: presenters.facet_label(f, v, names),
        facet_titles=presenters.FACET_TITLES, source_names=names,
        choices=facet_choices(params, result),
        facet_params={facet: param for param, facet in FACET_PARAMS.items()},
        sorts=[("pertinence", _("Pertinence")), ("recent", _("Mises à jour récentes")),
               ("titre", _("Titre")), ("reference", _("Référence")), ("annee", _("Année"))],
    ))
    return with_validators(response, etag, changed, max_age=MAX_AGE)


def _project_or_404(reference: str):
    project = service.get_project(db.session, reference)
    if project is None:
        abort(404)
    return project


@bp.route("/projets/<reference>")
def project_detail(reference: str):
    project = _project_or_404(reference)
    today = _today()
    site = current_app.config["SITE_URL"]
    accepts = service.accepts_objections(project, today)
    deadline = project.objection_deadline
    return cached(
        "registry/detail.html", daily=True, project=project,
        state=service.results_status(project, today),
        accepts_objections=accepts,
        # The day after the last day a per-project objection was possible.
        objections_closed_since=(deadline + timedelta(days=1)
                                 if project.objections_applied and deadline
                                 and today > deadline else None),
        statuses=list(ProjectStatus), themes=THEMES,
        json_ld=json.dumps(_json_ld(project, site), ensure_ascii=False).replace("</", "<\\/"),
    )


@bp.route("/projets/<reference>/versions")
def project_versions(reference: str):
    """Side-by-side comparison of two published versions of a project."""
    project = _project_or_404(reference)
    revisions = {r.number: r for r in project.revisions}
    latest = max(revisions) if revisions else 1
    try:
        new_number = int(request.args.get("a", latest))
        old_number = int(request.args.get("de", max(new_number - 1, 1)))
    except ValueError:
        abort(400, description=_("Les numéros de version doivent être des nombres entiers."))
    if old_number not in revisions or new_number not in revisions:
        abort(404)
    old, new = revisions[old_number], revisions[new_number]
    changes = service.compare_revisions(old.snapshot, new.snapshot)
    return cached("registry/versions.html", project=project, old=old, new=new,
                  changes=changes, revisions=project.revisions)


# schema.org MedicalStudyStatus for each step. A study of existing data recruits nobody:
# "ActiveNotRecruiting" is the honest value while data are being worked on; before any data
# is available a project is "NotYetRecruiting" (not started); a project stopped before any
# data was made available is "Withdrawn" (ClinicalTrials.gov: halted before enrolment), after
# that "Terminated" (halted prematurely).
STUDY_STATUS = {
    "depose": "NotYetRecruiting", "avis-favorable": "NotYetRecruiting",
    "avis-reserves": "NotYetRecruiting", "autorise": "NotYetRecruiting",
    "avis-defavorable": "Withdrawn", "donnees-disponibles": "ActiveNotRecruiting",
    "en-cours": "ActiveNotRecruiting", "termine": "Completed", "abandonne": "Terminated",
}


def study_status(project) -> str:
    """The schema.org MedicalStudyStatus IRI of a project."""
    status = str(project.status)
    name = STUDY_STATUS.get(status, "NotYetRecruiting")
    if service.withdrawn_before_data(project):  # the rule that also says no results are due
        name = "Withdrawn"
    return f"https://schema.org/{name}"


def _json_ld(project, site_url: str) -> dict:
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
        "status": study_status(project),
        "healthCondition": [{"@type": "MedicalCondition", "name": str(HEALTH_CONDITIONS[t])}
                            for t in project.themes or [] if t in HEALTH_CONDITIONS],
        "studySubject": project.population or None,
        "dateModified": project.updated_at.isoformat(),
        "studyLocation": {"@type": "AdministrativeArea", "name": "France"},
    }


@bp.route("/sources")
def source_list():
    sources = service.list_sources(db.session)
    counts = service.source_project_counts(db.session)
    return cached("registry/sources.html", catalogue=True, sources=sources, counts=counts)


@bp.route("/sources/<code>")
def source_detail(code: str):
    source = service.get_source(db.session, code)
    if source is None:
        abort(404)
    projects = sorted(source.projects, key=lambda p: p.updated_at, reverse=True)
    return cached("registry/source.html", catalogue=True, source=source, projects=projects)


@bp.route("/organisations/<slug>")
def organisation_detail(slug: str):
    organisation = service.get_organisation(db.session, slug)
    if organisation is None:
        abort(404)
    today = _today()
    projects = service.organisation_projects(db.session, organisation)
    return cached("registry/organisation.html", daily=True, organisation=organisation,
                  projects=projects, role_labels=presenters.ROLE_LABELS,
                  record=service.sponsor_record(db.session, organisation, today),
                  states={p.id: service.results_status(p, today) for p, _roles in projects})


@bp.route("/statistiques")
def statistics():
    # The objection package owns its figures; its version follows every filing, so a copy
    # made before a filing is never answered "not modified".
    from objection.service import public_statistics, statistics_version

    etag, _changed = validators("statistics", statistics_version(db.session), daily=True)
    # No Last-Modified: the objection figures have no date to compare If-Modified-Since with,
    # so only the ETag (which follows them) validates this page.
    response = unchanged(etag, None)
    if response is not None:
        return response
    figures = service.statistics(db.session)
    names = source_names()
    charts = {
        "year": column_chart([Bar(k, v) for k, v in figures["year"]],
                             title=_("Projets par année d'autorisation"), chart_id="chart-year"),
        "status": horizontal_bar_chart(
            [Bar(ProjectStatus(k).label, v) for k, v in figures["status"]],
            title=_("Projets par statut"), chart_id="chart-status"),
        "theme": horizontal_bar_chart(
            [Bar(str(THEMES.get(k, k)), v) for k, v in figures["theme"]],
            title=_("Projets par thème"), chart_id="chart-theme"),
        "source": horizontal_bar_chart(
            [Bar(k, v) for k, v in figures["source"]],
            title=_("Projets par source de données"), chart_id="chart-source"),
    }
    status_rows = [(ProjectStatus(k).label, v) for k, v in figures["status"]]
    theme_rows = [(str(THEMES.get(k, k)), v) for k, v in figures["theme"]]
    response = make_response(render_template(
        "registry/statistics.html", figures=figures, charts=charts, names=names,
        status_rows=status_rows, theme_rows=theme_rows,
        # As the page says: at least two projects due, or any result late or overdue.
        ranking=service.sponsor_ranking(db.session, today=_today(), minimum_due=2),
        themes=THEMES,
        statuses=ProjectStatus, objection_stats=public_statistics(db.session),
        kinds=OrganisationKind))
    return with_validators(response, etag, None, max_age=MAX_AGE)


@bp.app_template_filter("web_address")
def web_address_filter(value: str | None) -> str | None:
    """A result's address if it is http(s), else None: what the register stores is checked
    (``validation.web_address``), and pages never link to anything else whatever the
    database holds."""
    return web_address(value)


@bp.app_template_filter("doi_name")
def doi_name_filter(value: str | None) -> str | None:
    return doi_name(value)


@bp.app_template_filter("status_label")
def status_label(value: str) -> str:
    return ProjectStatus(value).label


def french_content() -> Markup:
    """` lang="fr"` for an element holding register text (always written in French) on a page
    in another language (WCAG 3.1.2, language of parts); nothing on French pages."""
    return Markup("") if str(get_locale()) == "fr" else Markup(' lang="fr"')


def french_span(text: object) -> Markup:
    """``text`` (escaped) in a ``<span lang="fr">`` on non-French pages, for French register
    text inside a translated sentence."""
    if str(get_locale()) == "fr":
        return Markup.escape(text)
    return Markup('<span lang="fr">{}</span>').format(text)


@bp.app_context_processor
def registry_helpers() -> dict:
    return {"theme_label": lambda code: str(THEMES.get(code, code)),
            "lang_fr": french_content(), "fr_span": french_span,
            "french_fields": presenters.FRENCH_TEXT_FIELDS,
            "field_label": lambda name: str(presenters.FIELD_LABELS.get(name, name)),
            "value_label": presenters.value_label}
