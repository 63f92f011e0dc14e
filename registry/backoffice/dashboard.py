"""The register's figures on the staff dashboard: projects published and drafts, and the
published projects whose results are overdue (references only: public facts)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.clock import local_today
from core.extensions import db
from registry import rules
from registry.models import Project


def render() -> Markup:
    today = local_today()
    counts = dict(db.session.execute(select(Project.published, func.count())
                                     .group_by(Project.published)).all())
    ended = db.session.scalars(
        select(Project).where(Project.published.is_(True),
                              Project.processing_ended_on.is_not(None))
        .options(selectinload(Project.results), selectinload(Project.status_events))
        .order_by(Project.processing_ended_on))
    overdue = []
    for project in ended:
        state = rules.results_status(project, today)
        if state.overdue:
            overdue.append((project.reference, state.due_on, state.overdue_months))
    # an autoescaped template, rendered: safe to insert as it is
    return Markup(render_template(  # noqa: S704
        "registry_backoffice/_dashboard.html", published=counts.get(True, 0),
        drafts=counts.get(False, 0), overdue=overdue))
