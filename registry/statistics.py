"""The register's figures: projects by year, status, theme and source; sponsors' records of
publishing results on time (EHDS art. 61(4), ``registry.rules``); the home page's headline
figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.clock import local_today
from registry.codes import ProjectStatus
from registry.models import DataSource, Organisation, Project, Result
from registry.rules import results_status


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


def sponsor_record(session: Session, organisation: Organisation,
                   today: date | None = None) -> SponsorRecord:
    projects = list(session.scalars(
        select(Project).where(Project.sponsor_id == organisation.id)
        .options(selectinload(Project.results))))
    return _record(organisation, projects, today or local_today())


def _record(organisation: Organisation, projects: list[Project], today: date) -> SponsorRecord:
    on_time = late = overdue = due = 0
    for project in projects:
        state = results_status(project, today)
        if state.due_on and state.due_on <= today:
            due += 1
        if state.overdue:
            overdue += 1
        elif state.late:
            late += 1
        elif state.on_time and state.due_on and state.due_on <= today:
            on_time += 1
        elif state.on_time and state.due_on and state.due_on > today:
            pass  # published early, not yet due: counted once due
    return SponsorRecord(organisation, len(projects), due, on_time, late, overdue)


def sponsor_ranking(session: Session, today: date | None = None,
                    minimum_due: int = 1) -> list[SponsorRecord]:
    """Sponsors with results due, best record first (ties: fewer overdue, more due, name).

    ``minimum_due`` only keeps a perfect record on too few projects out of the ranking; a
    sponsor with any result late or overdue is always listed, however few projects it has."""
    today = today or local_today()
    projects = session.scalars(select(Project).options(selectinload(Project.results),
                                                       selectinload(Project.sponsor)))
    grouped: dict[int, list[Project]] = {}
    organisations: dict[int, Organisation] = {}
    for project in projects:
        grouped.setdefault(project.sponsor_id, []).append(project)
        organisations[project.sponsor_id] = project.sponsor
    records = [_record(organisations[i], grouped[i], today) for i in grouped]
    records = [r for r in records if r.due and (r.due >= minimum_due or r.overdue or r.late)]
    return sorted(records, key=lambda r: (-r.score, r.overdue, -r.due, r.organisation.name))


def statistics(session: Session, today: date | None = None) -> dict[str, list[tuple[str, int]]]:
    """Projects by authorisation year, status, theme and data source."""
    today = today or local_today()
    projects = list(session.scalars(select(Project).options(selectinload(Project.sources),
                                                            selectinload(Project.results))))
    by_year = Counter(str(p.authorised_on.year) for p in projects if p.authorised_on)
    by_status = Counter(str(p.status) for p in projects)
    by_theme = Counter(t for p in projects for t in p.themes or [])
    by_source = Counter(s.code for p in projects for s in p.sources)
    overdue = sum(1 for p in projects if results_status(p, today).overdue)
    return {
        "year": sorted(by_year.items()),
        "status": [(s.value, by_status.get(s.value, 0)) for s in ProjectStatus],
        "theme": by_theme.most_common(),
        "source": by_source.most_common(),
        "totals": [("projects", len(projects)),
                   ("with_results", sum(1 for p in projects if p.results)),
                   ("overdue", overdue),
                   ("uses_ai", sum(1 for p in projects if p.uses_ai))],
    }


def key_figures(session: Session) -> list[dict] | None:
    """The register's headline figures for the home page, or None while it is empty."""
    projects = session.scalar(select(func.count(Project.id))) or 0
    if not projects:
        return None
    with_results = session.scalar(
        select(func.count(func.distinct(Result.project_id)))) or 0
    organisations = session.scalar(
        select(func.count(func.distinct(Project.sponsor_id)))) or 0
    sources = session.scalar(select(func.count(DataSource.id))) or 0
    return [
        {"value": projects, "label": _l("projets autorisés ou à l'étude")},
        {"value": with_results, "label": _l("projets ayant publié des résultats")},
        {"value": organisations, "label": _l("organismes promoteurs")},
        {"value": sources, "label": _l("bases de données")},
    ]
