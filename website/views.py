"""The shell's pages: home, content pages, glossary, site map, health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from core.database import schema_problem
from core.extensions import db
from core.i18n import current_lang
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
    from flask_babel import gettext

    return {"section_title": lambda section: gettext(SECTION_TITLES[section])}


@bp.route("/")
def home():
    from registry.service import key_figures

    lang = current_lang()
    faq = library().page(lang, "comprendre", "questions-frequentes")
    questions = []
    if faq:
        _, toc = rendered(faq, [], request.script_root)
        questions = toc[:3]  # the FAQ lists the questions asked most first
    return render_template(
        "website/home.html", figures=key_figures(db.session), questions=questions, faq=faq
    )


@bp.route("/<any(comprendre, 'vos-droits', 'a-propos'):section>")
def section_index(section: str):
    pages = library().section_pages(current_lang(), section)
    return render_template("website/section.html", section=section, pages=pages)


@bp.route(f"/comprendre/{GLOSSARY_SLUG}")
def glossary():
    entries = sorted(library().glossary[current_lang()], key=lambda e: e.term.casefold())
    return render_template("website/glossary.html", entries=entries, section="comprendre")


@bp.route("/<any(comprendre, 'vos-droits', 'a-propos'):section>/<slug>")
def content_page(section: str, slug: str):
    lang = current_lang()
    page = library().page(lang, section, slug)
    if page is None:
        abort(404)
    html, toc = rendered(page, library().glossary[lang], request.script_root,
                         library().proper_names[lang])
    return render_template(
        "website/page.html", page=page, html=html, toc=toc, section=section,
        show_toc=sum(1 + len(t["children"]) for t in toc) >= 3,
    )


@bp.route("/plan-du-site")
def site_map():
    lang = current_lang()
    sections = {section: library().section_pages(lang, section) for section in SECTIONS}
    return render_template("website/site_map.html", sections=sections)


@bp.route("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers and its schema is at the
    Alembic head of this code; 503 with the reason otherwise (an unmigrated database would
    otherwise pass the check and fail on the first real page)."""
    problem = schema_problem(db.engine)
    if problem:
        current_app.logger.error("health check failed: database %s", problem)
        return jsonify(status="error", database=problem), 503
    return jsonify(status="ok", database="ok")
