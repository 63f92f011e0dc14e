"""The shell's pages: home, content pages, glossary, site map, health check, and the pages that
combine packages: the statistics (register and objections) and the XML sitemap."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import get_locale, gettext

from core.clock import local_today, utcnow
from core.database import schema_problem
from core.extensions import db
from core.http_cache import make_etag, with_validators
from core.i18n import current_lang
from objection import statistics as objection_statistics
from objection.exclusions import freshness as exclusion_freshness
from registry import queries
from registry import statistics as register_statistics
from registry.codes import THEMES, OrganisationKind, ProjectStatus
from registry.responses import (
    MAX_AGE,
    code_version,
    conditional,
    keep_page,
    site_url,
    source_names,
    unchanged,
    validators,
)
from website.charts import Bar, bar_chart
from website.content import GLOSSARY_SLUG, SECTIONS, ContentLibrary, load_library, rendered

bp = Blueprint("site", __name__)

SECTION_TITLES = {
    # Lazy strings would be overkill: these are read inside a request, in its locale.
    "comprendre": "Comprendre",
    "vos-droits": "Vos droits et l'opposition",
    "a-propos": "À propos",
}


def library() -> ContentLibrary:
    return load_library(current_app.config["CONTENT_DIR"], tuple(current_app.config["LANGUAGES"]))


@bp.app_context_processor
def inject_sections() -> dict:
    return {"section_title": lambda section: gettext(SECTION_TITLES[section])}


def site_version(app: Flask | None = None) -> tuple[str, datetime]:
    """(digest, newest file) of what the shell's pages are made of: the content files and the
    register's code version (every template and catalogue). Computed once per process:
    content is read at start-up (``load_library``) and changes with a deployment."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("site_version")
    if cached is not None and not app.debug:
        return cached
    code, built = code_version(app)
    digest = hashlib.sha256(code.encode())
    root = Path(app.config["CONTENT_DIR"])
    files = sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        digest.update(f"\x00{path.relative_to(root)}\x00".encode())
        digest.update(path.read_bytes())
    newest = max([built, *(datetime.fromtimestamp(p.stat().st_mtime, tz=UTC) for p in files)])
    version = (digest.hexdigest()[:32], newest)
    app.extensions["site_version"] = version
    return version


def _static_page(template: str, context: Callable[[], dict]) -> Response:
    """A page made of content and code only: validators from ``site_version``, a 304 before
    anything is rendered, and kept by the page cache."""
    digest, changed = site_version()
    g.page_versions = {"site": digest}
    etag = make_etag(digest, get_locale(), request.path, request.query_string)
    response = unchanged(etag, changed)
    if response is not None:
        return response
    response = make_response(render_template(template, **context()))
    return keep_page(with_validators(response, etag, changed, max_age=MAX_AGE))


@bp.route("/")
def home():
    digest, built = site_version()
    etag, changed = validators("home", versions={"site": digest})
    changed = max(changed, built) if changed else built
    response = unchanged(etag, changed)
    if response is not None:
        return response
    faq = library().page(current_lang(), "comprendre", "questions-frequentes")
    questions = []
    if faq:
        _, toc = rendered(faq, [], request.script_root)
        questions = toc[:3]  # the FAQ lists the questions asked most first
    response = make_response(render_template(
        "website/home.html", figures=register_statistics.key_figures(db.session),
        questions=questions, faq=faq))
    return keep_page(with_validators(response, etag, changed, max_age=MAX_AGE))


@bp.route("/<any(comprendre, 'vos-droits', 'a-propos'):section>")
def section_index(section: str):
    return _static_page("website/section.html", lambda: dict(
        section=section, pages=library().section_pages(current_lang(), section)))


@bp.route(f"/comprendre/{GLOSSARY_SLUG}")
def glossary():
    return _static_page("website/glossary.html", lambda: dict(
        entries=sorted(library().glossary[current_lang()], key=lambda e: e.term.casefold()),
        section="comprendre"))


@bp.route("/<any(comprendre, 'vos-droits', 'a-propos'):section>/<slug>")
def content_page(section: str, slug: str):
    lang = current_lang()
    page = library().page(lang, section, slug)
    if page is None:
        abort(404)

    def context() -> dict:
        html, toc = rendered(page, library().glossary[lang], request.script_root,
                             library().proper_names[lang])
        return dict(page=page, html=html, toc=toc, section=section,
                    show_toc=sum(1 + len(t["children"]) for t in toc) >= 3)

    return _static_page("website/page.html", context)


@bp.route("/plan-du-site")
def site_map():
    lang = current_lang()
    return _static_page("website/site_map.html", lambda: dict(sections={
        section: library().section_pages(lang, section) for section in SECTIONS}))


@bp.route("/statistiques")
def statistics():
    """The register's figures and the objections' (small cells hidden). The objection figures'
    version follows every filing, so a copy made before a filing is never "not modified"."""
    etag, _changed = validators("statistics", daily=True, versions={
        "objections": objection_statistics.statistics_version(db.session)})
    # No Last-Modified: the objection figures have no date to compare If-Modified-Since with,
    # so only the ETag (which follows them) validates this page.
    response = unchanged(etag, None)
    if response is not None:
        return response
    figures = register_statistics.statistics(db.session)
    charts = {
        "year": bar_chart([Bar(k, v) for k, v in figures["year"]], chart_id="chart-year"),
        "status": bar_chart([Bar(ProjectStatus(k).label, v) for k, v in figures["status"]],
                            chart_id="chart-status"),
        "theme": bar_chart([Bar(str(THEMES.get(k, k)), v) for k, v in figures["theme"]],
                           chart_id="chart-theme"),
        "source": bar_chart([Bar(k, v) for k, v in figures["source"]], chart_id="chart-source"),
    }
    # The reader may re-sort the ranking (links, no JavaScript); an unknown order is the
    # default one: late sponsors first.
    order = request.args.get("classement", "")
    if order not in register_statistics.RANKING_ORDERS:
        order = register_statistics.DEFAULT_RANKING_ORDER
    response = make_response(render_template(
        "website/statistics.html", figures=figures, charts=charts, names=source_names(),
        status_rows=[(ProjectStatus(k).label, v) for k, v in figures["status"]],
        theme_rows=[(str(THEMES.get(k, k)), v) for k, v in figures["theme"]],
        # As the page says: at least two projects due, or any result late or overdue.
        ranking=register_statistics.sponsor_ranking(db.session, today=local_today(),
                                                    minimum_due=2, order=order),
        order=order, orders=list(register_statistics.RANKING_ORDERS),
        themes=THEMES, statuses=ProjectStatus,
        objection_stats=objection_statistics.public_statistics(db.session),
        kinds=OrganisationKind))
    return keep_page(with_validators(response, etag, None, max_age=MAX_AGE))


@bp.route("/sitemap.xml")
def sitemap():
    """Every public page, in French and English, with its alternates."""
    def build() -> str:
        base = site_url()
        paths = ["/", "/projets", "/sources", "/statistiques", "/donnees-ouvertes",
                 "/opposition", "/opposition/suivi", "/plan-du-site", "/comprendre",
                 "/vos-droits", "/a-propos", "/comprendre/glossaire"]
        paths += [page.path for page in library().all_pages("fr")]
        paths += [f"/sources/{s.code}" for s in queries.list_sources(db.session)]
        references, slugs = queries.sitemap_paths(db.session)
        paths += [f"/projets/{reference}" for reference in references]
        paths += [f"/organisations/{slug}" for slug in slugs]
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


@bp.route("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers and its schema is at the
    Alembic head of this code; 503 with the reason otherwise (an unmigrated database would
    otherwise pass the check and fail on the first real page)."""
    problem = schema_problem(db.engine)
    if problem:
        current_app.logger.error("health check failed: database %s", problem)
        return jsonify(status="error", database=problem), 503
    # The exclusion lists' freshness (every filing in force in a list within 24 hours): shown
    # and warned about, never a 503 (the site itself is healthy; monitoring alerts on "late").
    exclusions = exclusion_freshness.freshness(db.session, utcnow())
    if exclusions.late:
        current_app.logger.warning("exclusion lists late: oldest filing waiting %s s",
                                   int(exclusions.age.total_seconds()))
    return jsonify(status="ok", database="ok", exclusions=exclusions.as_json())
