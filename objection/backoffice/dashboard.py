"""The objections' figures on the staff dashboard: filings by status and scope, the review
queue and its delays. Numbers only (no reference, name or address)."""

from __future__ import annotations

import statistics as stats
from collections import Counter
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from core.clock import local_date, local_today
from core.extensions import db
from objection import queries
from objection.models import Filer, Objection, ObjectionEvent, ObjectionStatus, Scope


@dataclass(frozen=True)
class ReviewDelays:
    """Reviews decided (accepted or rejected) and how long they took, in days."""

    decided: int
    median_days: float | None
    longest_days: int | None
    late: int  # decided after the legal answer date


def by_status_and_scope() -> list[tuple[str, dict[str, int], int]]:
    """(status label, {scope: count}, total) for every status."""
    counts = Counter({(str(status), str(scope)): count for status, scope, count in
                      db.session.execute(select(Objection.status, Objection.scope,
                                                func.count()).group_by(Objection.status,
                                                                       Objection.scope))})
    rows = []
    for status in ObjectionStatus:
        cells = {scope.value: counts.get((status.value, scope.value), 0) for scope in Scope}
        rows.append((status.label, cells, sum(cells.values())))
    return rows


def review_delays() -> ReviewDelays:
    """How long proxy filings waited for their decision (from receipt to acceptance or
    rejection, in calendar days in France)."""
    rows = db.session.execute(
        select(Objection.created_at, Objection.answer_due_on, ObjectionEvent.at)
        .join(ObjectionEvent, ObjectionEvent.objection_id == Objection.id)
        .where(Objection.filer != Filer.SELF,
               ObjectionEvent.action.in_(["verified", "rejected"])))
    days, late = [], 0
    for created_at, due_on, decided_at in rows:
        decided_on = local_date(decided_at)
        days.append((decided_on - local_date(created_at)).days)
        late += decided_on > due_on
    return ReviewDelays(len(days), stats.median(days) if days else None,
                        max(days) if days else None, late)


def render() -> Markup:
    queue = queries.review_queue(db.session)
    today = local_today()
    # an autoescaped template, rendered: safe to insert as it is
    return Markup(render_template(  # noqa: S704
        "objection_backoffice/_dashboard.html", rows=by_status_and_scope(), scopes=list(Scope),
        delays=review_delays(), waiting=len(queue),
        late=sum(1 for entry in queue if entry.late),
        due_soon=sum(1 for entry in queue if entry.due_soon),
        oldest_days=max(((today - local_date(entry.objection.created_at)).days
                         for entry in queue), default=None)))
