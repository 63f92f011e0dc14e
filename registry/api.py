"""Open data: JSON API (with its OpenAPI document), CSV, JSON, Atom feeds, DCAT-AP, sitemap.

Everything here is read-only, public, under Licence Ouverte 2.0, cacheable with ETag and
Last-Modified (304s), and readable from any web page (CORS for GET).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from core.extensions import csrf, db
from core.http_cache import add_cors, make_etag, with_validators
from registry import presenters, search, service, views
from registry.feeds import FeedEntry, atom_feed
from registry.listing import FACET_PARAMS, ListingParams
from registry.models import Project
from registry.openapi import openapi_document
from registry.validation import doi_name, web_address
from registry.views import read_listing, run_search, search_query, unchanged, validators

bp = Blueprint("registry_api", __name__)
csrf.exempt(bp)
LICENCE = {"name": "Licence Ouverte 2.0 (etalab-2.0)", "id": "etalab-2.0",
           "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
# HealthDCAT-AP's controlled vocabulary of health data categories, one per EHDS art. 51(1)
# point: HRAD administrative data (claims, reimbursements, hospital stays), MRMR medical and
# mortality registries, PHDR population-based public health registries, EHRS electronic health
# records, RQSH research cohorts and surveys.
HEALTH_CATEGORY = "https://hdeu-dcat.data.health.europa.eu/resource/authority/healthcategories/"
HEALTH_CATEGORIES = {
    "DCIR": "HRAD", "PMSI-MCO": "HRAD", "PMSI-SMR": "HRAD", "PMSI-HAD": "HRAD",
    "PMSI-PSY": "HRAD", "CEPIDC": "MRMR", "SI-DEP": "PHDR", "VAC-SI": "PHDR",
    "BNDMR": "MRMR", "ESME": "EHRS", "OSCOUR": "PHDR", "ATU-CBPC": "RQSH", "E-SIS": "PHDR",
    "HEPATHER": "RQSH", "E-MUST": "MRMR",
}
CSV_COLUMNS = [
    "reference", "titre", "resume", "objectif", "interet_public", "promoteur", "promoteur_type",
    "promoteur_ville", "responsable_traitement", "financeurs", "sources", "population",
    "periode_debut", "periode_fin", "intelligence_artificielle", "appariement", "base_legale",
    "but_commercial", "lieu_traitement", "oppositions_appliquees", "raison_exception",
    "lieu_traitement_precision", "themes", "statut", "etapes", "decision_cnil",
    "date_autorisation", "fin_prevue", "fin_traitement", "date_limite_opposition",
    "nombre_resultats", "resultats", "resultats_dus_le", "resultats_en_retard",
    "mois_de_retard", "url", "mis_a_jour", "licence",
]
CHUNK = 500  # projects loaded per query by the exports


def site_url() -> str:
    return current_app.config["SITE_URL"].rstrip("/")


def conditional(build, mimetype: str, max_age: int = 300, cors: bool = True,
                filename: str | None = None, daily: bool = False,
                searched: bool = False, catalogue: bool = False,
                static: bool = False) -> Response:
    """Answer 304 when the client is current, else build the body; add CORS and licence.

    ``daily``: the body depends on today's date (overdue results); ``searched``: it comes
    from a search, so it follows the index's version too; ``catalogue``: it shows the data
    sources, so it follows the catalogue and the code. See ``views.validators``. ``static``:
    it is made from the code alone (``views.code_version``), not from the register.
    """
    if static:
        digest, changed = views.code_version()
        etag = make_etag(digest, request.path, mimetype, site_url())
    else:
        etag, changed = validators(mimetype, daily=daily, searched=searched,
                                   catalogue=catalogue)
    response = unchanged(etag, changed, max_age=max_age)
    if response is None:
        body = build()
        response = make_response(body)
        response.mimetype = mimetype
        if mimetype in ("text/csv", "application/json", "application/ld+json",
                        "application/atom+xml", "application/xml"):
            response.charset = "utf-8"
        response = with_validators(response, etag, changed, max_age=max_age)
        response.headers["Link"] = f'<{LICENCE["url"]}>; rel="license"'
        if filename:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return add_cors(response) if cors else response


def matching_projects(params: ListingParams) -> Iterator[Project]:
    """Every project that matches the listing's search and filters (not only one page), in
    the listing's order: the ids come from one search, the rows are loaded in chunks."""
    if not params.active:
        yield from service.all_projects(db.session)
        return
    backend = search.get_search_backend(current_app._get_current_object())  # type: ignore[attr-defined]
    ids = backend.matching_ids(search_query(params))
    for start in range(0, len(ids), CHUNK):
        yield from service.projects_by_ids(db.session, ids[start:start + CHUNK], full=True)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --------------------------------------------------------------------------- JSON API

@bp.route("/api/v1/projects")
def api_projects():
    params = read_listing()

    def build() -> str:
        result = run_search(params)
        projects = service.projects_by_ids(db.session, result.ids)
        base = f"{site_url()}/api/v1/projects"
        links = {"self": f"{base}?{params.query_string()}" if params.to_args() else base,
                 "first": f"{base}?{params.query_string(page=1)}".rstrip("?")}
        if params.page > 1:  # beyond the last page, the previous one is the last
            links["prev"] = (f"{base}?"
                             f"{params.query_string(page=min(params.page - 1, result.pages))}")
        if params.page < result.pages:
            links["next"] = f"{base}?{params.query_string(page=params.page + 1)}"
        links["last"] = f"{base}?{params.query_string(page=result.pages)}"
        today = views._today()
        return _json({
            "data": [presenters.project_summary_json(p, site_url(), today) for p in projects],
            "meta": {"total": result.total, "page": params.page, "per_page": params.per_page,
                     "pages": result.pages, "facets": {k: [{"value": v, "count": c}
                                                           for v, c in values]
                                                       for k, values in result.facets.items()},
                     "licence": LICENCE},
            "links": links,
        })

    return conditional(build, "application/json", daily=True, searched=True)


@bp.route("/api/v1/projects/<reference>")
def api_project(reference: str):
    project = service.get_project(db.session, reference)
    if project is None:
        abort(404)
    return conditional(lambda: _json({"data": presenters.project_detail_json(
        project, site_url(), views._today()), "meta": {"licence": LICENCE}}),
        "application/json", daily=True)


@bp.route("/api/v1/sources")
def api_sources():
    def build() -> str:
        counts = service.source_project_counts(db.session)
        return _json({"data": [presenters.source_json(s, counts.get(s.code, 0), site_url())
                               for s in service.list_sources(db.session)],
                      "meta": {"licence": LICENCE}})

    return conditional(build, "application/json", catalogue=True)


@bp.route("/api/v1/openapi.json")
def openapi():
    """The OpenAPI document: code, so its validators are the code's version (not the
    register's last change: a deployment that changes it never leaves a client on a 304)."""
    return conditional(lambda: _json(openapi_document(site_url())), "application/json",
                       max_age=3600, static=True)


@bp.route("/donnees-ouvertes")
def api_page():
    """The open-data page: static text, so its validators are what it is made of."""
    digest, changed = views.code_version()
    etag = make_etag(digest, get_locale(), request.path, site_url())
    response = unchanged(etag, changed, max_age=3600)
    if response is None:
        response = with_validators(make_response(render_template(
            "registry/api.html", licence=LICENCE, site_url=site_url())), etag, changed,
            max_age=3600)
    return response


@bp.after_app_request
def cors_for_api(response: Response) -> Response:
    """Any web page may read the API (GET, HEAD and the browser's OPTIONS preflight)."""
    if request.path.startswith("/api/") and request.method in ("GET", "HEAD", "OPTIONS"):
        add_cors(response)
    return response


# --------------------------------------------------------------------------- downloads

@bp.route("/projets.csv")
def export_csv():
    params = read_listing()

    def build() -> str:
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so Excel reads UTF-8
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        today = views._today()
        for project in matching_projects(params):
            state = service.results_status(project, today)
            writer.writerow(map(presenters.csv_cell, [
                project.reference, project.title, project.summary, project.objective,
                project.public_interest, project.sponsor.name, str(project.sponsor.kind),
                project.sponsor.city, project.controller.name if project.controller else "",
                "|".join(f.name for f in project.funders),
                "|".join(s.code for s in project.sources), project.population,
                project.period_start_year or "", project.period_end_year or "",
                "oui" if project.uses_ai else "non", "oui" if project.data_linkage else "non",
                str(project.legal_basis), "oui" if project.commercial else "non",
                str(project.processing_location),
                "oui" if project.objections_applied else "non",
                project.objection_exception_reason, project.processing_location_detail,
                "|".join(project.themes or []), str(project.status),
                "|".join(f"{e.happened_on.isoformat()} {e.status}"
                         for e in project.status_events),
                project.cnil_decision,
                (project.authorised_on or "") and project.authorised_on.isoformat(),
                (project.planned_end or "") and project.planned_end.isoformat(),
                (project.processing_ended_on or "") and project.processing_ended_on.isoformat(),
                (project.objection_deadline or "") and project.objection_deadline.isoformat(),
                len(project.results),
                "|".join(_result_link(r) for r in project.results),
                state.due_on.isoformat() if state.due_on else "",
                "oui" if state.overdue else "non", state.overdue_months,
                f"{site_url()}/projets/{project.reference}", project.updated_at.isoformat(),
                LICENCE["id"],
            ]))
        return buffer.getvalue()

    return conditional(build, "text/csv", filename="registre-projets.csv", daily=True,
                       searched=params.active)


def _result_link(result) -> str:
    """A result as one CSV cell item: its DOI link, else its URL, else its title. Only what
    the register accepts as a link (``validation.doi_name``, ``web_address``) is given as one,
    whatever an older row holds, as on the project page."""
    doi = doi_name(result.doi)
    if doi:
        return f"https://doi.org/{doi}"
    return web_address(result.url) or result.title


@bp.route("/projets.json")
def export_json():
    params = read_listing()
    return conditional(lambda: _json({
        "licence": LICENCE, "generated_from": f"{site_url()}/projets",
        "data": [presenters.project_detail_json(p, site_url(), views._today())
                 for p in matching_projects(params)]}),
        "application/json", filename="registre-projets.json", daily=True,
        searched=params.active)


@bp.route("/projets.atom")
def feed():
    """New and changed projects and new results, for any search of the register."""
    params = read_listing()

    def build() -> bytes:
        projects = matching_projects(params)
        entries: list[FeedEntry] = []
        for project in projects:
            link = f"{site_url()}{request.script_root}/projets/{project.reference}"
            for revision in project.revisions[-3:]:
                if revision.number == 1:
                    title = _("Nouveau projet : %(title)s", title=project.title)
                    summary = project.summary
                else:
                    fields = ", ".join(str(presenters.FIELD_LABELS.get(f, f))
                                       for f in revision.changed_fields)
                    title = _("Projet modifié : %(title)s", title=project.title)
                    summary = _("Modifié : %(fields)s.", fields=fields)
                entries.append(FeedEntry(
                    id=f"tag:hdh-transparence,2026:{project.reference}:v{revision.number}",
                    title=title, link=link, updated=revision.created_at, summary=summary,
                    category="projet"))
            for result in project.results:
                moment = datetime(result.published_on.year, result.published_on.month,
                                  result.published_on.day, tzinfo=UTC)
                entries.append(FeedEntry(
                    id=f"tag:hdh-transparence,2026:{project.reference}:resultat:{result.id}",
                    title=_("Nouveau résultat : %(title)s", title=result.title), link=link,
                    updated=moment, summary=result.summary or project.title,
                    category="resultat"))
        entries.sort(key=lambda e: e.updated, reverse=True)
        entries = entries[:100]
        newest = entries[0].updated if entries else datetime(2026, 1, 1, tzinfo=UTC)
        query = params.query_string(page=1)
        self_url = f"{site_url()}{request.script_root}/projets.atom" + (f"?{query}" if query
                                                                       else "")
        return atom_feed(
            feed_id=f"tag:hdh-transparence,2026:projets?{query}",
            title=feed_title(params),
            self_url=self_url,
            alternate_url=f"{site_url()}{request.script_root}/projets"
                          + (f"?{query}" if query else ""),
            lang=str(get_locale()), updated=newest, entries=entries,
            author=_("Plateforme des données de santé (démonstration)"),
            rights=LICENCE["name"])

    return conditional(build, "application/atom+xml", daily=True, searched=params.active)


def feed_title(params: ListingParams) -> str:
    """The feed's title, with the search and every filter it follows, as the listing's
    "Vos critères" shows them: « cancer » · Thème : Cancers, Santé des enfants · Statut : …"""
    criteria = [_("« %(text)s »", text=params.text)] if params.text else []
    names = views.source_names()
    for facet in FACET_PARAMS.values():
        values = params.filters.get(facet)
        if values:
            criteria.append(_("%(facet)s : %(values)s", facet=presenters.FACET_TITLES[facet],
                              values=", ".join(presenters.facet_label(facet, value, names)
                                               for value in values)))
    title = _("Registre des projets – nouveautés")
    return f"{title} ({' · '.join(criteria)})" if criteria else title


@bp.route("/sources.jsonld")
def dcat_catalogue():
    """The catalogue of data sources as DCAT-AP (HealthDCAT-AP where it applies), JSON-LD."""
    def build() -> str:
        base = site_url()
        datasets = []
        for source in service.list_sources(db.session):
            datasets.append({
                "@id": f"{base}/sources/{source.code}",
                "@type": "dcat:Dataset",
                "dct:identifier": source.code,
                "dct:title": {"@language": "fr", "@value": source.name},
                "dct:description": {"@language": "fr",
                                    "@value": f"{source.description} {source.content}".strip()},
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": source.holder},
                "dcat:landingPage": {"@id": f"{base}/sources/{source.code}"},
                "dct:accessRights": {"@id": "http://publications.europa.eu/resource/authority/"
                                            "access-right/NON_PUBLIC"},
                "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/"
                                      "data-theme/HEAL"},
                "dct:spatial": {"@id": "http://publications.europa.eu/resource/authority/"
                                       "country/FRA"},
                "healthdcatap:healthCategory": {"@id": HEALTH_CATEGORY + HEALTH_CATEGORIES.get(
                    source.code, "HRAD" if source.kind == "base-principale" else "MRMR")},
                "dct:type": str(source.kind),
            })
        return _json({
            "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                         "foaf": "http://xmlns.com/foaf/0.1/",
                         "healthdcatap": "http://healthdataportal.eu/ns/health#"},
            "@id": f"{base}/sources",
            "@type": "dcat:Catalog",
            "dct:title": {"@language": "fr", "@value": "Catalogue des sources de données"},
            "dct:description": {"@language": "fr", "@value":
                                "Les bases de la base principale du SNDS et de son catalogue."},
            "dct:publisher": {"@type": "foaf:Agent",
                              "foaf:name": "Plateforme des données de santé (démonstration)"},
            "dct:license": {"@id": LICENCE["url"]},
            "dcat:dataset": datasets,
        })

    return conditional(build, "application/ld+json", catalogue=True)


@bp.route("/sitemap.xml")
def sitemap():
    def build() -> str:
        from website.views import library

        base = site_url()
        paths = ["/", "/projets", "/sources", "/statistiques", "/donnees-ouvertes",
                 "/opposition", "/plan-du-site", "/comprendre", "/vos-droits", "/a-propos",
                 "/comprendre/glossaire"]
        paths += [page.path for page in library().all_pages("fr")]
        paths += [f"/sources/{s.code}" for s in service.list_sources(db.session)]
        projects = service.all_projects(db.session)
        paths += [f"/projets/{p.reference}" for p in projects]
        paths += [f"/organisations/{slug}" for slug in sorted(
            {o.slug for p in projects for o in (p.sponsor, p.controller, *p.funders)
             if o is not None})]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                 'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
        for path in paths:
            fr, en = f"{base}{path}", f"{base}/en{path if path != '/' else '/'}"
            for loc in (fr, en):
                lines.append(
                    f"<url><loc>{loc}</loc>"
                    f'<xhtml:link rel="alternate" hreflang="fr" href="{fr}"/>'
                    f'<xhtml:link rel="alternate" hreflang="en" href="{en}"/></url>')
        lines.append("</urlset>")
        return "\n".join(lines)

    return conditional(build, "application/xml", cors=False)
