"""What citizens see of the exclusion feed: on a project's page, the extractions the platform
made for it and the list of objections each applied (a section the register renders without
knowing objections: the shell hands ``project_section`` to ``registry.sections``); on a
follow-up page, the extractions that applied the person's objection (``exclusion_proof`` in
the template)."""

from __future__ import annotations

from flask import Flask, render_template
from markupsafe import Markup

from core.extensions import db
from core.page_cache import page_cache
from objection.exclusions import extractions
from objection.models import Objection


def project_section(reference: str, objections_applied: bool) -> Markup:
    """The extractions reported for a project (nothing for a project objections do not apply
    to, unless the platform reported some)."""
    found, total = extractions.for_project(db.session, reference)
    if not objections_applied and not found:
        return Markup("")
    html = render_template("objection/_project_extractions.html", extractions=found,
                           total=total)
    return Markup(html)  # noqa: S704 -- a template Jinja rendered (and escaped)


def section_versions() -> dict[str, object]:
    """The page-cache versions ``project_section`` is built from."""
    return {"extractions": extractions.version(db.session)}


def exclusion_proof(objection: Objection) -> tuple[list[extractions.Extraction], int]:
    return extractions.applying(db.session, objection)


def init_app(app: Flask) -> None:
    engine = app.extensions["database"]["engine"]
    page_cache(app).add_source("extractions", extractions.version_reader(engine))
    app.add_template_global(exclusion_proof, "exclusion_proof")
