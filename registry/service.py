"""Writing the register. Only this module writes the register's tables.

Functions take the session first and flush; the caller (view, CLI command, test) commits.
The search documents of the projects a transaction changed are written with it (see
``_queue_reindex``): in it, before the commit, when the index is in the register's database
(PostgreSQL); after the commit otherwise (Whoosh).
Reads are in ``registry.queries``; the checks a project passes before it is written, in
``registry.preparation``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import case, event, select
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.database import dialect_insert
from registry import search
from registry.catalogue import DATA_SOURCES
from registry.codes import OrganisationKind, ProjectStatus
from registry.models import (
    DataSource,
    Organisation,
    Project,
    ProjectRevision,
    RegistryState,
    Result,
    StatusEvent,
    project_sources,
)
from registry.preparation import (
    OrganisationPlan,
    PreparedProject,
    find_organisation,
    prepare_project,
)
from registry.revisions import changed_fields, snapshot
from registry.search.documents import iter_search_documents
from registry.validation import InvalidProject, RegistryError, column_size, normalise_name
from staff import audit


def slugify(text: str, max_length: int = 120) -> str:
    """ASCII, lower-case, dash-separated (stable URLs)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "projet"


# --------------------------------------------------------------------------- data sources

@dataclass(frozen=True)
class SourceSync:
    """What ``sync_data_sources`` did: codes of the data sources created and updated."""

    created: list[str]
    updated: list[str]
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _source_fields(spec: dict) -> dict[str, Any]:
    return {**spec, "url": spec.get("url", "")}


def sync_data_sources(session: Session) -> SourceSync:
    """Make the database's data sources what the catalogue (``registry.catalogue``) says:
    create the missing ones, update those that differ (a set-up step: ``flask registry
    sync-sources``, also run by ``flask registry reindex``, so a catalogue change reaches an
    existing database). Sources no longer in the catalogue are kept (projects refer to them).
    The search documents of projects using an updated source (its name is among their
    keywords) are refreshed once the transaction commits."""
    existing = {s.code: s for s in session.scalars(select(DataSource))}
    created: list[str] = []
    updated: list[DataSource] = []
    for spec in DATA_SOURCES:
        fields = _source_fields(spec)
        source = existing.get(spec["code"])
        if source is None:
            session.add(DataSource(**fields))
            created.append(spec["code"])
            continue
        if any(getattr(source, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(source, key, value)
            updated.append(source)
    session.flush()
    for source in updated:
        for project_id in session.scalars(select(project_sources.c.project_id).where(
                project_sources.c.source_id == source.id)):
            _queue_reindex(session, project_id)
    if created or updated:
        _touch_register(session, None)  # sources have no date: the version alone moves
    return SourceSync(created=created, updated=[s.code for s in updated],
                      unchanged=len(DATA_SOURCES) - len(created) - len(updated))


# --------------------------------------------------------------------------- organisations

def get_or_create_organisation(session: Session, name: str, kind: str | None = None,
                               city: str = "") -> Organisation:
    """The organisation called ``name``, created with ``kind`` and ``city`` if it is new.

    An existing organisation is returned unchanged: naming it as a project's controller or
    funder must never rewrite what it is (``update_organisation`` changes it explicitly)."""
    name = normalise_name(name)
    return find_organisation(session, name) or _create_organisation(session, name, kind, city)


def _create_organisation(session: Session, name: str, kind: str | None,
                         city: str = "") -> Organisation:
    organisation = Organisation(name=name, slug=_unique_org_slug(session, name),
                                kind=_organisation_kind(kind), city=city or "",
                                updated_at=utcnow())
    session.add(organisation)
    _touch_register(session, organisation.updated_at)
    return organisation


def _organisation_kind(kind: str | None) -> OrganisationKind:
    """``kind`` as an OrganisationKind, or the French reason it is not one."""
    if not kind:
        raise RegistryError("sponsor_kind", "type d'organisation manquant")
    try:
        return OrganisationKind(kind)
    except ValueError:
        raise RegistryError("sponsor_kind", f"type « {kind} » inconnu") from None


def update_organisation(session: Session, organisation: Organisation, *,
                        kind: str | None = None, city: str | None = None,
                        now: datetime | None = None) -> bool:
    """Change what an organisation is (kind) or where (city), when given and different.

    Pages and search documents show both: ``updated_at`` moves, so every register response's
    validators change (``last_change``), and the search documents of the projects it sponsors
    are refreshed once the transaction commits. Returns whether anything changed."""
    changed = False
    if kind and organisation.kind != kind:
        organisation.kind = _organisation_kind(kind)
        changed = True
    if city and organisation.city != city:
        size = column_size(Organisation, "city")
        if size and len(city) > size:
            raise RegistryError("sponsor_city", f"trop long (au plus {size} caractères)")
        organisation.city = city
        changed = True
    if changed:
        organisation.updated_at = now or utcnow()
        _touch_register(session, organisation.updated_at)
    if changed and organisation.id is not None:
        with session.no_autoflush:
            ids = list(session.scalars(select(Project.id).where(
                Project.sponsor_id == organisation.id)))
        for project_id in ids:
            _queue_reindex(session, project_id)
    return changed


def record_organisation_change(session: Session, organisation: Organisation, *,
                               by: str) -> None:
    """The audit event of an organisation changed by staff (after ``update_organisation``)."""
    audit.record(session, "registry.organisation_updated", actor=by,
                 target=f"organisation:{organisation.slug}",
                 detail={"kind": str(organisation.kind)})


def _unique_org_slug(session: Session, name: str) -> str:
    size = column_size(Organisation, "slug") or 120
    base = slugify(name, size - 6)  # room for a "-NNNNN" suffix
    slug, counter = base, 2
    pending = {o.slug for o in session.new if isinstance(o, Organisation)}
    with session.no_autoflush:
        while slug in pending or session.scalar(
                select(Organisation.id).where(Organisation.slug == slug)) is not None:
            slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _realise(session: Session, plan: OrganisationPlan, now: datetime) -> Organisation:
    """The organisation a plan names: created when new, updated only by explicit values.

    A plan made before earlier rows of the same import were written may name as new an
    organisation one of them created: only then is it looked up again."""
    organisation = plan.existing or find_organisation(session, plan.name)
    if organisation is None:
        return _create_organisation(session, plan.name, plan.creation_kind, plan.city or "")
    update_organisation(session, organisation, kind=plan.kind, city=plan.city, now=now)
    return organisation


# --------------------------------------------------------------------------- projects

def save_project(session: Session, data: dict[str, Any], *, by: str,
                 now: datetime | None = None, today: date | None = None,
                 draft: bool = False) -> tuple[Project, bool]:
    """Create or update the project ``data["reference"]``; returns (project, changed).

    Every field is checked first (``registry.validation.prepare_project``); invalid data raises
    ``InvalidProject`` listing every problem, and nothing is written. A revision (who, when,
    which fields) is written only when a public field changed, so saving the same data again
    changes nothing. Keys left out of ``data`` keep the project's current values.
    """
    prepared = prepare_project(session, data,
                               today=today or (now.date() if now is not None else None))
    if prepared.errors:
        raise InvalidProject(prepared.errors)
    return write_project(session, prepared, by=by, now=now, draft=draft)


def write_project(session: Session, prepared: PreparedProject, *, by: str,
                  now: datetime | None = None, draft: bool = False) -> tuple[Project, bool]:
    """Write a project prepared without errors, and its revision if anything changed. A new
    project is created as a draft (not published) when ``draft``; a save by staff
    (``by="staff:<id>"``) is also an audit event."""
    if prepared.errors:
        raise InvalidProject(prepared.errors)
    now = now or utcnow()
    sources = _sources(session, prepared.source_codes)
    project = prepared.project
    creating = project is None
    with session.no_autoflush:
        assert prepared.sponsor is not None
        sponsor = _realise(session, prepared.sponsor, now)
        controller = (_realise(session, prepared.controller, now) if prepared.controller
                      else None)
        funders = [_realise(session, plan, now) for plan in prepared.funders]
        if project is None:
            project = Project(reference=prepared.reference, created_at=now, updated_at=now,
                              published=not draft,
                              slug=_unique_project_slug(session, prepared.reference,
                                                        prepared.values["title"]))
            session.add(project)
        for key, value in prepared.values.items():
            setattr(project, key, value)
        project.sponsor, project.controller = sponsor, controller
        project.funders, project.sources = funders, sources
        _replace_events(project, prepared.events)
        if prepared.results is not None:
            _replace_results(project, prepared.results, now)
    session.flush()
    after = snapshot(project)
    changed = changed_fields(prepared.before, after)
    if creating or changed:
        project.updated_at = now
        number = (max((r.number for r in project.revisions), default=0)) + 1
        session.add(ProjectRevision(project=project, number=number, created_at=now, author=by,
                                    changed_fields=[] if creating else changed,
                                    snapshot=after))
        session.flush()
        _touch_register(session, now)
        _queue_reindex(session, project.id)
        if by.startswith("staff:"):
            audit.record(session, "registry.project_saved", actor=by,
                         target=f"project:{project.reference}", at=now,
                         detail={"revision": number, "fields": [] if creating else changed,
                                 "published": project.published})
        return project, True
    return project, False


def set_published(session: Session, project: Project, *, published: bool, by: str,
                  now: datetime | None = None) -> bool:
    """Publish a project, or hide it again from every public page, the search, the exports,
    the sitemap and the figures: the register's version moves in the same transaction (cached
    pages change at once) and the search index follows with it. Returns whether it changed;
    an audit event says who did it."""
    if project.published == published:
        return False
    now = now or utcnow()
    project.published = published
    session.flush()
    _touch_register(session, now)
    _queue_reindex(session, project.id)
    audit.record(session, "registry.project_published" if published
                 else "registry.project_unpublished", actor=by,
                 target=f"project:{project.reference}", at=now)
    return True


def _sources(session: Session, codes: list[str]) -> list[DataSource]:
    """The data sources with ``codes`` (checked beforehand); the catalogue's are created if
    the database does not have them yet."""
    found = {s.code: s for s in session.scalars(select(DataSource)
                                                .where(DataSource.code.in_(codes)))}
    if len(found) < len(codes):
        sync_data_sources(session)
        found = {s.code: s for s in session.scalars(select(DataSource)
                                                    .where(DataSource.code.in_(codes)))}
    return [found[code] for code in codes]


def _unique_project_slug(session: Session, reference: str, title: str) -> str:
    base = f"{reference.lower()}-{slugify(title, 80)}"
    slug, counter = base, 2
    while session.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _replace_events(project: Project, events: list[tuple]) -> None:
    current = [(e.status, e.happened_on, e.decision_number, e.note) for e in project.status_events]
    if sorted(current, key=str) == sorted(events, key=str):
        return
    project.status_events = [StatusEvent(status=s, happened_on=d, decision_number=n, note=note)
                             for s, d, n, note in events]


def _replace_results(project: Project, results: list[dict], now: datetime) -> None:
    by_title = {r.title: r for r in project.results}
    kept = []
    for data in results:
        result = by_title.get(data["title"]) or Result(title=data["title"], created_at=now)
        for key in ("kind", "published_on", "url", "doi", "summary"):
            setattr(result, key, data[key])
        kept.append(result)
    project.results = kept


def add_result(session: Session, project: Project, *, kind: str, title: str,
               published_on: date, by: str, url: str = "", doi: str = "",
               summary: str = "", now: datetime | None = None) -> Project:
    """Publish a result for ``project`` (writes a revision)."""
    results = [*snapshot(project)["results"],
               {"kind": kind, "title": title, "published_on": published_on.isoformat(),
                "url": url, "doi": doi, "summary": summary}]
    return save_project(session, {"reference": project.reference, "results": results},
                        by=by, now=now)[0]


def record_status(session: Session, project: Project, *, status: str, on: date, by: str,
                  decision_number: str = "", note: str = "",
                  now: datetime | None = None) -> Project:
    """Move ``project`` to ``status`` on ``on`` (writes a dated step and a revision)."""
    events = [*snapshot(project)["status_events"],
              {"status": status, "date": on.isoformat(), "decision_number": decision_number,
               "note": note}]
    data: dict[str, Any] = {"reference": project.reference, "status": status,
                            "status_events": events}
    if status == ProjectStatus.CNIL_AUTHORISED:
        data["authorised_on"] = on.isoformat()
        data["cnil_decision"] = decision_number or project.cnil_decision
    if ProjectStatus(status).ends_processing:
        data["processing_ended_on"] = (project.processing_ended_on or on).isoformat()
    return save_project(session, data, by=by, now=now)[0]


# --------------------------------------------------------------------------- versions

def _touch_register(session: Session, moment: datetime | None) -> None:
    """Move the register's version (``RegistryState``), in the write's own transaction: every
    validator and cached page of the register follows it. ``moment`` is when the change is
    dated; the register's last change only ever moves forward (the demo and imports write
    dated versions out of order). Sources have no date (``None``): the version alone moves."""
    table = RegistryState.__table__
    insert = dialect_insert(session)(RegistryState).values(id=1, version=1, changed_at=moment)
    later = case((table.c.changed_at.is_(None), insert.excluded.changed_at),
                 (insert.excluded.changed_at > table.c.changed_at, insert.excluded.changed_at),
                 else_=table.c.changed_at)
    session.execute(insert.on_conflict_do_update(
        index_elements=["id"], set_={"version": table.c.version + 1, "changed_at": later}))


# --------------------------------------------------------------------------- search index

_PENDING_KEY = "registry_reindex_ids"


def _queue_reindex(session: Session, project_id: int) -> None:
    """Remember the project so its search document is written with the transaction: before
    it commits, in it, when the index is in the register's database (PostgreSQL), or once it
    has committed (Whoosh)."""
    pending = session.info.setdefault(_PENDING_KEY, set())
    pending.add(project_id)
    if not session.info.get("registry_reindex_hooked"):
        session.info["registry_reindex_hooked"] = True
        event.listen(session, "before_commit", _reindex_before_commit)
        event.listen(session, "after_commit", _reindex_after_commit)
        event.listen(session, "after_rollback", _forget_pending)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _reindex_before_commit(session: Session) -> None:
    """With a backend that keeps its index in the register's database, write the pending
    projects' documents in this transaction (flushed first, so they are what commits): the
    index commits or rolls back with the save. A failure fails the commit."""
    if not session.info.get(_PENDING_KEY) or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not search.writes_in_transaction(app):
        return  # written after the commit (``_reindex_after_commit``)
    session.flush()
    ids = sorted(session.info.pop(_PENDING_KEY, set()))
    documents = list(iter_search_documents(session, ids))
    search.index_in_transaction(app, session.connection(), documents)
    hidden = set(ids) - {document["id"] for document in documents}  # drafts, unpublished
    if hidden:
        search.remove_in_transaction(app, session.connection(), hidden)


def _reindex_after_commit(session: Session) -> None:
    ids = sorted(session.info.pop(_PENDING_KEY, set()))
    if not ids:
        return
    if not has_app_context():
        return
    bind = session.get_bind()
    with Session(bind=bind) as reader:
        documents = list(iter_search_documents(reader, ids))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    search.index_projects(app, documents)
    hidden = set(ids) - {document["id"] for document in documents}  # drafts, unpublished
    if hidden:
        search.remove_projects(app, hidden)
