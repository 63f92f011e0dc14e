"""Reading the register: the queries pages, exports, set-up and other packages use. Nothing
here writes. ``project_for_objection`` is the one door the objection package uses.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from registry.codes import parse_reference
from registry.models import (
    DataSource,
    Organisation,
    Project,
    ProjectRevision,
    project_funders,
    project_sources,
)
from registry.rules import accepts_objections


def get_project(session: Session, reference: str) -> Project | None:
    """The project with ``reference`` (case-insensitive), with everything its page shows."""
    reference = parse_reference(reference)
    if reference is None:
        return None
    return session.scalar(
        select(Project).where(Project.reference == reference)
        .options(selectinload(Project.sources), selectinload(Project.funders),
                 selectinload(Project.status_events), selectinload(Project.results),
                 selectinload(Project.revisions), selectinload(Project.sponsor),
                 selectinload(Project.controller))
    )


_FULL_LOAD = (selectinload(Project.sponsor), selectinload(Project.controller),
              selectinload(Project.sources), selectinload(Project.funders),
              selectinload(Project.results), selectinload(Project.status_events),
              selectinload(Project.revisions))


def projects_by_ids(session: Session, ids: list[int], full: bool = False) -> list[Project]:
    """Projects in the order of ``ids`` (the search engine's order); ``full`` also loads what
    the exports and feeds show, in a few queries rather than one per project."""
    if not ids:
        return []
    options = _FULL_LOAD if full else (selectinload(Project.sponsor),
                                        selectinload(Project.sources),
                                        selectinload(Project.results))
    rows = session.scalars(select(Project).where(Project.id.in_(ids)).options(*options))
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def all_projects(session: Session) -> list[Project]:
    """Every project with what the exports and feeds show."""
    return list(session.scalars(select(Project).order_by(Project.reference).options(*_FULL_LOAD)))


def last_change(session: Session) -> datetime | None:
    """When the register last changed (the validator of every cached register response): its
    last published version, or the last change to an organisation (kind, city), which project,
    organisation and listing pages show too."""
    moments = session.execute(select(
        select(func.max(ProjectRevision.created_at)).scalar_subquery(),
        select(func.max(Organisation.updated_at)).scalar_subquery())).one()
    return max((m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None),
               default=None)


def count_projects(session: Session) -> int:
    return session.scalar(select(func.count(Project.id))) or 0


# --------------------------------------------------------------------------- data sources

def sources_version(session: Session) -> str:
    """A digest of the data sources as the database has them, for the validators of the pages
    and files that show them (``/sources``, the API, DCAT): a sync changes it."""
    rows = session.execute(select(
        DataSource.code, DataSource.name, DataSource.kind, DataSource.holder,
        DataSource.description, DataSource.content, DataSource.url, DataSource.since_year,
    ).order_by(DataSource.code))
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(str(value) for value in row)).encode())
    return digest.hexdigest()[:32]


def list_sources(session: Session) -> list[DataSource]:
    return list(session.scalars(select(DataSource).order_by(DataSource.kind, DataSource.code)))


_CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def get_source(session: Session, code: str) -> DataSource | None:
    if not _CODE.match(code):
        return None
    return session.scalar(select(DataSource).where(DataSource.code == code.upper()))


def source_project_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(DataSource.code, func.count(project_sources.c.project_id))
        .join(project_sources, project_sources.c.source_id == DataSource.id, isouter=True)
        .group_by(DataSource.code)
    )
    return {code: count for code, count in rows}


# --------------------------------------------------------------------------- organisations

ORGANISATION_ROLES = ("sponsor", "controller", "funder")


def organisation_projects(session: Session,
                          organisation: Organisation) -> list[tuple[Project, list[str]]]:
    """Every project ``organisation`` takes part in, with its roles in it (``sponsor``,
    ``controller``, ``funder``, in that order), newest reference first: a funder or a data
    controller that sponsors nothing still has its projects listed."""
    funded = select(project_funders.c.project_id).where(
        project_funders.c.organisation_id == organisation.id)
    projects = session.scalars(
        select(Project).where((Project.sponsor_id == organisation.id)
                              | (Project.controller_id == organisation.id)
                              | Project.id.in_(funded))
        .order_by(Project.reference.desc())
        .options(selectinload(Project.results), selectinload(Project.status_events),
                 selectinload(Project.funders)))
    listed = []
    for project in projects:
        roles = {"sponsor": project.sponsor_id == organisation.id,
                 "controller": project.controller_id == organisation.id,
                 "funder": any(f.id == organisation.id for f in project.funders)}
        listed.append((project, [role for role in ORGANISATION_ROLES if roles[role]]))
    return listed


def get_organisation(session: Session, slug: str) -> Organisation | None:
    if not re.match(r"^[a-z0-9-]{1,120}$", slug):
        return None
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


# --------------------------------------------------------------------------- objections

@dataclass(frozen=True)
class ProjectForObjection:
    """What the objection process needs to know about a project."""

    reference: str
    title: str
    accepts_objections: bool
    objection_deadline: date | None


def project_for_objection(session: Session, reference: str,
                          today: date | None = None) -> ProjectForObjection | None:
    """The project with ``reference`` as the objection form needs it, or None if unknown."""
    reference = parse_reference(reference)
    if reference is None:
        return None
    project = session.scalar(select(Project).where(Project.reference == reference))
    if project is None:
        return None
    return ProjectForObjection(
        reference=project.reference, title=project.title,
        accepts_objections=accepts_objections(project, today),
        objection_deadline=project.objection_deadline,
    )
