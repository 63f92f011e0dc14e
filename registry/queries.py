"""Reading the register: the queries pages, exports, set-up and other packages use. Nothing
here writes. ``project_for_objection`` is the one door the objection package uses.

Every public read shows published projects only (``PUBLISHED``): a draft or an unpublished
project is on no page, in no export, feed, sitemap or figure. The back-office reads drafts
with ``get_project(..., drafts=True)`` and ``staff_projects``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from core.database import scalar_reader
from registry.codes import parse_reference
from registry.models import (
    DataSource,
    Organisation,
    Project,
    ProjectRevision,
    RegistryState,
    project_funders,
    project_sources,
)
from registry.rules import accepts_objections

PUBLISHED = Project.published.is_(True)


def get_project(session: Session, reference: str, *, drafts: bool = False) -> Project | None:
    """The project with ``reference`` (case-insensitive), with everything its page shows;
    a draft or unpublished project only when ``drafts`` (the back-office)."""
    reference = parse_reference(reference)
    if reference is None:
        return None
    statement = select(Project).where(Project.reference == reference).options(*_FULL_LOAD)
    if not drafts:
        statement = statement.where(PUBLISHED)
    return session.scalar(statement)


def staff_projects(session: Session, text: str = "", limit: int = 200) -> list[Project]:
    """Projects for the back-office's list, drafts included, newest change first; ``text``
    filters on the reference or the title."""
    statement = (select(Project).options(selectinload(Project.sponsor))
                 .order_by(Project.updated_at.desc(), Project.id.desc()).limit(limit))
    if text:
        pattern = f"%{text.strip()[:100]}%"
        statement = statement.where(Project.reference.ilike(pattern)
                                    | Project.title.ilike(pattern))
    return list(session.scalars(statement))


# What a project's page, exports and feeds show, in a few queries rather than one per project;
# a revision's full snapshot only when it is read (the versions page compares two).
_FULL_LOAD = (selectinload(Project.sponsor), selectinload(Project.controller),
              selectinload(Project.sources), selectinload(Project.funders),
              selectinload(Project.results), selectinload(Project.status_events),
              selectinload(Project.revisions).defer(ProjectRevision.snapshot))


def projects_by_ids(session: Session, ids: list[int], full: bool = False) -> list[Project]:
    """Projects in the order of ``ids`` (the search engine's order); ``full`` also loads what
    the exports and feeds show, in a few queries rather than one per project."""
    if not ids:
        return []
    options = _FULL_LOAD if full else (selectinload(Project.sponsor),
                                        selectinload(Project.sources),
                                        selectinload(Project.results))
    rows = session.scalars(select(Project).where(Project.id.in_(ids), PUBLISHED)
                           .options(*options))
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def all_projects(session: Session) -> list[Project]:
    """Every project with what the exports and feeds show (``project_ids`` and
    ``projects_by_ids`` load them in chunks instead)."""
    return list(session.scalars(select(Project).where(PUBLISHED).order_by(Project.reference)
                                .options(*_FULL_LOAD)))


def project_ids(session: Session) -> list[int]:
    """Every project's id, by reference (the exports' order without a search)."""
    return list(session.scalars(select(Project.id).where(PUBLISHED)
                                .order_by(Project.reference)))


def sitemap_paths(session: Session) -> tuple[list[str], list[str]]:
    """The references of every project and the slugs of every organisation taking part in
    one (sponsor, controller or funder), sorted: what the sitemap lists, without loading a
    project."""
    references = list(session.scalars(select(Project.reference).where(PUBLISHED)
                                      .order_by(Project.reference)))
    funded = select(project_funders.c.project_id).join(
        Project, Project.id == project_funders.c.project_id).where(
        project_funders.c.organisation_id == Organisation.id, PUBLISHED)
    in_a_project = (select(Project.id).where((Project.sponsor_id == Organisation.id)
                                             | (Project.controller_id == Organisation.id),
                                             PUBLISHED)
                    .exists()) | funded.exists()
    slugs = list(session.scalars(select(Organisation.slug).where(in_a_project)
                                 .order_by(Organisation.slug)))
    return references, slugs


@dataclass(frozen=True)
class RegisterVersion:
    """The register's version (moved by every write that changes what a page shows) and the
    date of its latest change."""

    number: int
    changed_at: datetime | None


def register_version(session: Session) -> RegisterVersion:
    """The register's version: one primary-key read (``RegistryState``), what every validator
    and cached page of the register follows."""
    row = session.execute(select(RegistryState.version, RegistryState.changed_at)
                          .where(RegistryState.id == 1)).first()
    return RegisterVersion(row[0], row[1]) if row else RegisterVersion(0, None)


def register_version_reader(engine: Engine) -> Callable[[], int]:
    """The register's version number, read outside any request (the page cache asks it before
    serving a kept page): one primary-key read on a connection of its own."""
    read = scalar_reader(engine, "SELECT version FROM registry_state WHERE id = 1")
    return lambda: read() or 0


def last_change(session: Session) -> datetime | None:
    """When the register last changed: its newest published version, or the last change to
    an organisation (kind, city), which project, organisation and listing pages show too."""
    return register_version(session).changed_at


def count_projects(session: Session) -> int:
    return session.scalar(select(func.count(Project.id)).where(PUBLISHED)) or 0


# --------------------------------------------------------------------------- data sources

def list_sources(session: Session) -> list[DataSource]:
    return list(session.scalars(select(DataSource).order_by(DataSource.kind, DataSource.code)))


_CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def get_source(session: Session, code: str) -> DataSource | None:
    if not _CODE.match(code):
        return None
    return session.scalar(select(DataSource).where(DataSource.code == code.upper()))


def source_project_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(DataSource.code, func.count(Project.id))
        .join(project_sources, project_sources.c.source_id == DataSource.id, isouter=True)
        .join(Project, (Project.id == project_sources.c.project_id) & PUBLISHED,
              isouter=True)
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
                              | Project.id.in_(funded), PUBLISHED)
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
    #: False for a project the law exempts: neither a per-project nor a general objection
    #: applies to it (``objection_exception_reason`` says why).
    objections_applied: bool = True
    objection_exception_reason: str = ""
    #: The project goes no further (finished, abandoned, refused): it extracts no more data.
    closed: bool = False


def project_for_objection(session: Session, reference: str,
                          today: date | None = None) -> ProjectForObjection | None:
    """The project with ``reference`` as the objection form needs it, or None if unknown."""
    reference = parse_reference(reference)
    if reference is None:
        return None
    project = session.scalar(select(Project).where(Project.reference == reference, PUBLISHED))
    if project is None:
        return None
    return ProjectForObjection(
        reference=project.reference, title=project.title,
        accepts_objections=accepts_objections(project, today),
        objection_deadline=project.objection_deadline,
        objections_applied=project.objections_applied,
        objection_exception_reason=project.objection_exception_reason,
        closed=project.status.closed,
    )
