"""Routes of the open data: the JSON API, the exports, the feeds, the DCAT catalogue and the
page that presents them. Thin: read the listing, answer 304 or build the body."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, abort, g, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from core.clock import local_today
from core.extensions import csrf, db
from core.http_cache import add_cors, make_etag, with_validators
from registry import presenters, queries
from registry.opendata import atom, dcat, shapes, tables
from registry.opendata.openapi import openapi_document
from registry.opendata.shapes import LICENCE
from registry.responses import (
    code_version,
    conditional,
    keep_page,
    matching_projects,
    read_listing,
    run_search,
    site_url,
    source_names,
    unchanged,
)

bp = Blueprint("registry_api", __name__)
csrf.exempt(bp)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# --------------------------------------------------------------------------- JSON API

@bp.route("/api/v1/projects")
def api_projects():
    params = read_listing()

    def build() -> str:
        result = run_search(params)
        projects = queries.projects_by_ids(db.session, result.ids)
        base = f"{site_url()}/api/v1/projects"
        links = {"self": f"{base}?{params.query_string()}" if params.to_args() else base,
                 "first": f"{base}?{params.query_string(page=1)}".rstrip("?")}
        if params.page > 1:  # beyond the last page, the previous one is the last
            links["prev"] = (f"{base}?"
                             f"{params.query_string(page=min(params.page - 1, result.pages))}")
        if params.page < result.pages:
            links["next"] = f"{base}?{params.query_string(page=params.page + 1)}"
        links["last"] = f"{base}?{params.query_string(page=result.pages)}"
        today = local_today()
        return _json({
            "data": [shapes.project_summary_json(p, site_url(), today) for p in projects],
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
    project = queries.get_project(db.session, reference)
    if project is None:
        abort(404)
    return conditional(lambda: _json({"data": shapes.project_detail_json(
        project, site_url(), local_today()), "meta": {"licence": LICENCE}}),
        "application/json", daily=True)


@bp.route("/api/v1/sources")
def api_sources():
    def build() -> str:
        counts = queries.source_project_counts(db.session)
        return _json({"data": [shapes.source_json(s, counts.get(s.code, 0), site_url())
                               for s in queries.list_sources(db.session)],
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
    digest, changed = code_version()
    g.page_versions = {"code": digest}
    etag = make_etag(digest, get_locale(), request.path, site_url())
    response = unchanged(etag, changed, max_age=3600)
    if response is None:
        response = keep_page(with_validators(make_response(render_template(
            "registry/api.html", licence=LICENCE, site_url=site_url())), etag, changed,
            max_age=3600))
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
    return conditional(
        lambda: tables.csv_document(matching_projects(params), site_url=site_url(),
                                    licence_id=LICENCE["id"], today=local_today()),
        "text/csv", filename="registre-projets.csv", daily=True, searched=params.active)


@bp.route("/projets.json")
def export_json():
    params = read_listing()

    def build() -> Iterator[str]:
        """``{"data": [...], "generated_from": …, "licence": …}`` (keys in ``_json``'s sorted
        order), streamed a project at a time."""
        yield '{"data":['
        for number, project in enumerate(matching_projects(params)):
            yield ("," if number else "") + _json(shapes.project_detail_json(
                project, site_url(), local_today()))
        yield f'],"generated_from":{_json(f"{site_url()}/projets")},"licence":{_json(LICENCE)}}}'

    return conditional(build, "application/json", filename="registre-projets.json",
                       daily=True, searched=params.active)


@bp.route("/projets.atom")
def feed():
    """New and changed projects and new results, for any search of the register."""
    params = read_listing()

    def build() -> bytes:
        root = f"{site_url()}{request.script_root}"
        entries = atom.register_entries(matching_projects(params), root)
        query = params.query_string(page=1)
        suffix = f"?{query}" if query else ""
        return atom.atom_feed(
            feed_id=f"tag:hdh-transparence,2026:projets?{query}",
            title=atom.feed_title(params, source_names(), presenters.sponsor_names(
                db.session, params.filters.get("sponsor", []))),
            self_url=f"{root}/projets.atom{suffix}",
            alternate_url=f"{root}/projets{suffix}",
            lang=str(get_locale()),
            updated=entries[0].updated if entries else atom.EMPTY_FEED_UPDATED,
            entries=entries, author=_("Plateforme des données de santé (démonstration)"),
            rights=LICENCE["name"])

    return conditional(build, "application/atom+xml", daily=True, searched=params.active)


@bp.route("/sources.jsonld")
def dcat_catalogue():
    """The catalogue of data sources as DCAT-AP (HealthDCAT-AP where it applies), JSON-LD."""
    return conditional(
        lambda: _json(dcat.catalogue(queries.list_sources(db.session), site_url(),
                                     LICENCE["url"])),
        "application/ld+json", catalogue=True)
