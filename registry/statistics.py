"""The register's figures: projects by year, status, theme and source; sponsors' records of
publishing results on time (EHDS art. 61(4), ``registry.rules``); the home page's headline
figures.

Figures are computed from one query of a few facts per project (never loading projects),
kept per process for the register's version (``queries.register_version``): a page that
shows them costs one primary-key read until the register changes.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from core.clock import local_today
from registry.codes import ProjectStatus
from registry.models import (
    DataSource,
    Organisation,
    Project,
    Result,
    StatusEvent,
    project_sources,
)
from registry.queries import register_version
from registry.rules import ResultsStatus, results_state


@dataclass(frozen=True)
class ProjectFacts:
    """What the figures need of one project."""

    sponsor_id: int
    status: str
    authorised_year: int | None
    uses_ai: bool
    themes: tuple[str, ...]
    processing_ended_on: date | None
    withdrawn_before_data: bool
    first_published: date | None

    def results(self, today: date) -> ResultsStatus:
        return results_state(self.processing_ended_on, self.withdrawn_before_data,
                             self.first_published, today)


def _facts_query():
    """One row of plain values per project. Read as text, not through the columns' types:
    with 100,000 projects, SQLAlchemy's conversions (enums, JSON, dates) cost ten times the
    query; the few values the figures need are parsed here, with the standard library."""
    first_published = (select(func.min(Result.published_on))
                       .where(Result.project_id == Project.id).scalar_subquery())
    had_data = exists().where(
        StatusEvent.project_id == Project.id,
        StatusEvent.status.in_([s.value for s in ProjectStatus if s.has_data]))
    return select(Project.sponsor_id, type_coerce(Project.status, String),
                  func.cast(Project.authorised_on, String), Project.uses_ai,
                  func.cast(Project.themes, String),
                  func.cast(Project.processing_ended_on, String), had_data,
                  func.cast(first_published, String)).where(Project.published.is_(True))


_QUOTED = re.compile(r'"([^"\\]+)"')  # a theme code in the JSON list: plain ASCII, no escapes


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _facts(rows: Iterable) -> list[ProjectFacts]:
    return [ProjectFacts(
        sponsor_id=sponsor_id, status=status,
        authorised_year=int(authorised_on[:4]) if authorised_on else None,
        uses_ai=bool(uses_ai), themes=tuple(_QUOTED.findall(themes)) if themes else (),
        processing_ended_on=_day(ended_on),
        withdrawn_before_data=status == ProjectStatus.ABANDONED and not had_data,
        first_published=_day(first))
        for sponsor_id, status, authorised_on, uses_ai, themes, ended_on, had_data, first
        in rows]


_cache_lock = threading.Lock()


def _register_facts(session: Session) -> tuple[list[ProjectFacts], list[tuple[str, int]]]:
    """Every project's facts and the projects per data source, computed once per version of
    the register (per process and app)."""
    version = register_version(session).number
    cache = current_app.extensions.setdefault("registry_figures", {})
    with _cache_lock:
        cached = cache.get("facts")
    if cached is not None and cached[0] == version:
        return cached[1], cached[2]
    facts = _facts(session.connection().execute(_facts_query()))
    sources = [(code, count) for code, count in session.execute(
        select(DataSource.code, func.count(project_sources.c.project_id))
        .join(project_sources, project_sources.c.source_id == DataSource.id)
        .group_by(DataSource.code).order_by(func.count(project_sources.c.project_id).desc(),
                                            DataSource.code))]
    with _cache_lock:
        cache["facts"] = (version, facts, sources)
    return facts, sources


@dataclass(frozen=True)
class SponsorRecord:
    organisation: Organisation
    projects: int
    due: int          # projects whose results are due by now
    on_time: int
    late: int
    overdue: int

    @property
    def score(self) -> float:
        """Share of due projects with results published on time (1.0 when nothing is due)."""
        return self.on_time / self.due if self.due else 1.0


def _record(organisation: Organisation, facts: list[ProjectFacts],
            today: date) -> SponsorRecord:
    on_time = late = overdue = due = 0
    for project in facts:
        state = project.results(today)
        if state.due_on and state.due_on <= today:
            due += 1
        if state.overdue:
            overdue += 1
        elif state.late:
            late += 1
        elif state.on_time and state.due_on and state.due_on <= today:
            on_time += 1
        # published early, not yet due: counted once due
    return SponsorRecord(organisation, len(facts), due, on_time, late, overdue)


def sponsor_record(session: Session, organisation: Organisation,
                   today: date | None = None) -> SponsorRecord:
    """One sponsor's record (its organisation page)."""
    facts = _facts(session.connection().execute(_facts_query().where(
        Project.sponsor_id == organisation.id)))
    return _record(organisation, facts, today or local_today())


# The orders a reader may rank sponsors in (the statistics page's ``classement``), each a
# sort key; the first is the page's default: a citizen comes to see who is late.
RANKING_ORDERS: dict[str, Callable[[SponsorRecord], tuple]] = {
    # lowest share on time first (ties: more results still awaited, more late, more due)
    "retard": lambda r: (r.score, -r.overdue, -r.late, -r.due, r.organisation.name.casefold()),
    # most results still awaited first (ties: more late, lower share on time)
    "attendus": lambda r: (-r.overdue, -r.late, r.score, r.organisation.name.casefold()),
    # best record first (ties: fewer overdue, more due)
    "a-temps": lambda r: (-r.score, r.overdue, -r.due, r.organisation.name.casefold()),
    "nom": lambda r: (r.organisation.name.casefold(),),
}
DEFAULT_RANKING_ORDER = "retard"


def sponsor_ranking(session: Session, today: date | None = None, minimum_due: int = 1,
                    order: str = "a-temps") -> list[SponsorRecord]:
    """Sponsors with results due, in ``order`` (a key of ``RANKING_ORDERS``): by default best
    record first (ties: fewer overdue, more due, name).

    ``minimum_due`` only keeps a perfect record on too few projects out of the ranking; a
    sponsor with any result late or overdue is always listed, however few projects it has."""
    today = today or local_today()
    grouped: dict[int, list[ProjectFacts]] = {}
    for project in _register_facts(session)[0]:
        grouped.setdefault(project.sponsor_id, []).append(project)
    organisations = {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.id.in_(list(grouped))))}
    records = [_record(organisations[i], facts, today) for i, facts in grouped.items()]
    records = [r for r in records if r.due and (r.due >= minimum_due or r.overdue or r.late)]
    return sorted(records, key=RANKING_ORDERS[order])


def statistics(session: Session, today: date | None = None) -> dict[str, list[tuple[str, int]]]:
    """Projects by authorisation year, status, theme and data source."""
    today = today or local_today()
    facts, sources = _register_facts(session)
    by_year = Counter(str(p.authorised_year) for p in facts if p.authorised_year)
    by_status = Counter(p.status for p in facts)
    by_theme = Counter(t for p in facts for t in p.themes)
    return {
        "year": sorted(by_year.items()),
        "status": [(s.value, by_status.get(s.value, 0)) for s in ProjectStatus],
        "theme": by_theme.most_common(),
        "source": sources,
        "totals": [("projects", len(facts)),
                   ("with_results", sum(1 for p in facts if p.first_published)),
                   ("overdue", sum(1 for p in facts if p.results(today).overdue)),
                   ("uses_ai", sum(1 for p in facts if p.uses_ai))],
    }


def key_figures(session: Session) -> list[dict] | None:
    """The register's headline figures for the home page, or None while it is empty."""
    published = Project.published.is_(True)
    projects = session.scalar(select(func.count(Project.id)).where(published)) or 0
    if not projects:
        return None
    with_results = session.scalar(
        select(func.count(func.distinct(Result.project_id)))
        .join(Project, Project.id == Result.project_id).where(published)) or 0
    organisations = session.scalar(
        select(func.count(func.distinct(Project.sponsor_id))).where(published)) or 0
    sources = session.scalar(select(func.count(DataSource.id))) or 0
    return [
        {"value": projects, "label": _l("projets autorisés ou à l'étude")},
        {"value": with_results, "label": _l("projets ayant publié des résultats")},
        {"value": organisations, "label": _l("organismes promoteurs")},
        {"value": sources, "label": _l("bases de données")},
    ]
