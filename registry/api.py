"""Open data: JSON API (with its OpenAPI document), CSV, JSON, Atom feeds, DCAT-AP, sitemap.

Everything here is read-only, public, under Licence Ouverte 2.0, cacheable with ETag and
Last-Modified (304s), and readable from any web page (CORS for GET).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from registry import presenters, service
from registry.feeds import FeedEntry, atom_feed
from registry.listing import ListingParams
from registry.openapi import openapi_document
from registry.views import read_listing, run_search, validators
from website.extensions import csrf, db
from website.http_cache import add_cors, not_modified, with_validators

bp = Blueprint("registry_api", __name__)
csrf.exempt(bp)
LICENCE = {"name": "Licence Ouverte 2.0 (etalab-2.0)",
           "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}
CSV_COLUMNS = [
    "reference", "titre", "resume", "objectif", "interet_public", "promoteur", "promoteur_type",
    "promoteur_ville", "responsable_traitement", "financeurs", "sources", "population",
    "periode_debut", "periode_fin", "intelligence_artificielle", "appariement", "base_legale",
    "but_commercial", "lieu_traitement", "oppositions_appliquees", "raison_exception",
    "themes", "statut", "decision_cnil", "date_autorisation", "fin_prevue",
    "fin_traitement", "date_limite_opposition", "nombre_resultats", "resultats_dus_le",
    "resultats_en_retard", "mois_de_retard", "url", "mis_a_jour",
]


def site_url() -> str:
    return current_app.config["SITE_URL"].rstrip("/")


def conditional(build, mimetype: str, max_age: int = 300, cors: bool = True,
                filename: str | None = None) -> Response:
    """Answer 304 when the client is current, else build the body; add CORS and licence."""
    etag, changed = validators(mimetype)
    response = not_modified(etag, changed)
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


def matching_projects(params: ListingParams):
    """Every project that matches the listing's search and filters (not only one page)."""
    if not params.active:
        return service.all_projects(db.session)
    ids: list[int] = []
    page = 1
    while True:
        result = run_search(ListingParams(text=params.text, filters=params.filters,
                                          sort=params.sort, page=page, per_page=100))
        ids.extend(result.ids)
        if page >= result.pages:
            break
        page += 1
    return service.projects_by_ids(db.session, ids, full=True)


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
        if params.page > 1:
            links["prev"] = f"{base}?{params.query_string(page=params.page - 1)}"
        if params.page < result.pages:
            links["next"] = f"{base}?{params.query_string(page=params.page + 1)}"
        links["last"] = f"{base}?{params.query_string(page=result.pages)}"
        return _json({
            "data": [presenters.project_summary_json(p, site_url()) for p in projects],
            "meta": {"total": result.total, "page": params.page, "per_page": params.per_page,
                     "pages": result.pages, "facets": {k: [{"value": v, "count": c}
                                                           for v, c in values]
                                                       for k, values in result.facets.items()},
                     "licence": LICENCE},
            "links": links,
        })

    return conditional(build, "application/json")


@bp.route("/api/v1/projects/<reference>")
def api_project(reference: str):
    project = service.get_project(db.session, reference)
    if project is None:
        abort(404)
    return conditional(lambda: _json({"data": presenters.project_detail_json(project, site_url()),
                                      "meta": {"licence": LICENCE}}), "application/json")


@bp.route("/api/v1/sources")
def api_sources():
    def build() -> str:
        counts = service.source_project_counts(db.session)
        return _json({"data": [presenters.source_json(s, counts.get(s.code, 0), site_url())
                               for s in service.list_sources(db.session)],
                      "meta": {"licence": LICENCE}})

    return conditional(build, "application/json")


@bp.route("/api/v1/openapi.json")
def openapi():
    return conditional(lambda: _json(openapi_document(site_url())), "application/json",
                       max_age=3600)


@bp.route("/donnees-ouvertes")
def api_page():
    return render_template("registry/api.html", licence=LICENCE, site_url=site_url())


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
        for project in matching_projects(params):
            state = service.results_status(project)
            writer.writerow([
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
                project.objection_exception_reason, "|".join(project.themes or []),
                str(project.status), project.cnil_decision,
                (project.authorised_on or "") and project.authorised_on.isoformat(),
                (project.planned_end or "") and project.planned_end.isoformat(),
                (project.processing_ended_on or "") and project.processing_ended_on.isoformat(),
                (project.objection_deadline or "") and project.objection_deadline.isoformat(),
                len(project.results), state.due_on.isoformat() if state.due_on else "",
                "oui" if state.overdue else "non", state.overdue_months,
                f"{site_url()}/projets/{project.reference}", project.updated_at.isoformat(),
            ])
        return buffer.getvalue()

    return conditional(build, "text/csv", filename="registre-projets.csv")


@bp.route("/projets.json")
def export_json():
    params = read_listing()
    return conditional(lambda: _json({
        "licence": LICENCE, "generated_from": f"{site_url()}/projets",
        "data": [presenters.project_detail_json(p, site_url())
                 for p in matching_projects(params)]}),
        "application/json", filename="registre-projets.json")


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
            title=_("Registre des projets – nouveautés") + (f" ({params.text})"
                                                           if params.text else ""),
            self_url=self_url,
            alternate_url=f"{site_url()}{request.script_root}/projets"
                          + (f"?{query}" if query else ""),
            lang=str(get_locale()), updated=newest, entries=entries,
            author=_("Plateforme des données de santé (démonstration)"),
            rights=LICENCE["name"])

    return conditional(build, "application/atom+xml")


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
                "healthdcatap:healthCategory": "Electronic health records" if source.kind ==
                "base-principale" else "Registries",
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

    return conditional(build, "application/ld+json")


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
        paths += [f"/projets/{p.reference}" for p in service.all_projects(db.session)]
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
