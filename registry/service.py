"""What the register does. Only this module writes the register's tables.

Functions take the session first and flush; the caller (view, CLI command, test) commits.
After a commit that changed projects, the search index is updated (see ``_queue_reindex``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, selectinload

from core.clock import local_today
from registry.catalogue import DATA_SOURCES
from registry.models import (
    REFERENCE_PATTERN,
    THEMES,
    DataSource,
    Organisation,
    OrganisationKind,
    Project,
    ProjectRevision,
    ProjectStatus,
    Result,
    StatusEvent,
    project_sources,
)
from registry.validation import (
    PUBLIC_FIELDS,
    InvalidProject,
    OrganisationPlan,
    PreparedProject,
    RegistryError,
    column_size,
    find_organisation,
    normalise_name,
    prepare_project,
    snapshot,
)

RESULTS_DUE_MONTHS = 18  # EHDS, Regulation (EU) 2025/327, art. 61(4)
_REFERENCE = re.compile(REFERENCE_PATTERN)


@dataclass(frozen=True)
class ProjectForObjection:
    """What the objection process needs to know about a project."""

    reference: str
    title: str
    accepts_objections: bool
    objection_deadline: date | None


# --------------------------------------------------------------------------- helpers

def slugify(text: str, max_length: int = 120) -> str:
    """ASCII, lower-case, dash-separated (stable URLs)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "projet"


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when end is not after start)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _today(today: date | None) -> date:
    return today or local_today()


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
    return SourceSync(created=created, updated=[s.code for s in updated],
                      unchanged=len(DATA_SOURCES) - len(created) - len(updated))


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
                                kind=_organisation_kind(kind), city=city or "")
    session.add(organisation)
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
        organisation.updated_at = now or datetime.now(UTC)
    if changed and organisation.id is not None:
        with session.no_autoflush:
            ids = list(session.scalars(select(Project.id).where(
                Project.sponsor_id == organisation.id)))
        for project_id in ids:
            _queue_reindex(session, project_id)
    return changed


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


ORGANISATION_ROLES = ("sponsor", "controller", "funder")


def organisation_projects(session: Session,
                          organisation: Organisation) -> list[tuple[Project, list[str]]]:
    """Every project ``organisation`` takes part in, with its roles in it (``sponsor``,
    ``controller``, ``funder``, in that order), newest reference first: a funder or a data
    controller that sponsors nothing still has its projects listed."""
    from registry.models import project_funders

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


# --------------------------------------------------------------------------- projects

def save_project(session: Session, data: dict[str, Any], *, by: str,
                 now: datetime | None = None,
                 today: date | None = None) -> tuple[Project, bool]:
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
    return write_project(session, prepared, by=by, now=now)


def write_project(session: Session, prepared: PreparedProject, *, by: str,
                  now: datetime | None = None) -> tuple[Project, bool]:
    """Write a project prepared without errors, and its revision if anything changed."""
    if prepared.errors:
        raise InvalidProject(prepared.errors)
    now = now or datetime.now(UTC)
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
    changed = [k for k in PUBLIC_FIELDS
               if prepared.before is None or prepared.before.get(k) != after.get(k)]
    if creating or changed:
        project.updated_at = now
        number = (max((r.number for r in project.revisions), default=0)) + 1
        session.add(ProjectRevision(project=project, number=number, created_at=now, author=by,
                                    changed_fields=[] if creating else changed,
                                    snapshot=after))
        session.flush()
        _queue_reindex(session, project.id)
        return project, True
    return project, False


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
    if status in (ProjectStatus.FINISHED, ProjectStatus.ABANDONED):
        data["processing_ended_on"] = (project.processing_ended_on or on).isoformat()
    return save_project(session, data, by=by, now=now)[0]


def get_project(session: Session, reference: str) -> Project | None:
    """The project with ``reference`` (case-insensitive), with everything its page shows."""
    reference = reference.strip().upper()
    if not _REFERENCE.match(reference):
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


def compare_revisions(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for every public field that differs."""
    return [(k, old.get(k), new.get(k)) for k in PUBLIC_FIELDS if old.get(k) != new.get(k)]


def last_change(session: Session) -> datetime | None:
    """When the register last changed (the validator of every cached register response): its
    last published version, or the last change to an organisation (kind, city), which project,
    organisation and listing pages show too."""
    moments = session.execute(select(
        select(func.max(ProjectRevision.created_at)).scalar_subquery(),
        select(func.max(Organisation.updated_at)).scalar_subquery())).one()
    return max((m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None),
               default=None)


# --------------------------------------------------------------------------- accountability

@dataclass(frozen=True)
class ResultsStatus:
    due_on: date | None            # 18 months after the end of processing
    has_results: bool
    overdue: bool                  # past due with no result
    overdue_months: int
    late: bool                     # first result published after the due date
    on_time: bool


# The steps at which a project has the data: from then on, results will be due.
DATA_STEPS = (ProjectStatus.DATA_AVAILABLE, ProjectStatus.IN_PROGRESS)


def withdrawn_before_data(project: Project) -> bool:
    """Abandoned before any data were made available (no "données mises à disposition" or
    "en cours" step): nothing was processed, so no results are due, and schema.org calls the
    study "Withdrawn" (``registry.views.study_status``). A project abandoned later, or
    finished, processed data."""
    return project.status == ProjectStatus.ABANDONED and not any(
        event.status in DATA_STEPS for event in project.status_events)


def results_status(project: Project, today: date | None = None) -> ResultsStatus:
    """Where a project stands with the EHDS rule: results due 18 months after processing ends,
    for projects that had the data (not for one withdrawn before, ``withdrawn_before_data``)."""
    today = _today(today)
    due = (add_months(project.processing_ended_on, RESULTS_DUE_MONTHS)
           if project.processing_ended_on and not withdrawn_before_data(project) else None)
    has_results = bool(project.results)
    first = min((r.published_on for r in project.results), default=None)
    overdue = bool(due and not has_results and today > due)
    return ResultsStatus(
        due_on=due, has_results=has_results, overdue=overdue,
        # Whole months late, at least 1 once overdue ("depuis 0 mois" would read as on time).
        overdue_months=max(1, months_between(due, today)) if overdue and due else 0,
        late=bool(due and first and first > due),
        on_time=bool(first and (due is None or first <= due)),
    )


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
    return _record(organisation, projects, _today(today))


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
    today = _today(today)
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


# --------------------------------------------------------------------------- figures

def statistics(session: Session, today: date | None = None) -> dict[str, list[tuple[str, int]]]:
    """Projects by authorisation year, status, theme and data source."""
    today = _today(today)
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


def project_for_objection(session: Session, reference: str,
                          today: date | None = None) -> ProjectForObjection | None:
    """The project with ``reference`` as the objection form needs it, or None if unknown."""
    reference = reference.strip().upper()
    if not _REFERENCE.match(reference):
        return None
    project = session.scalar(select(Project).where(Project.reference == reference))
    if project is None:
        return None
    return ProjectForObjection(
        reference=project.reference, title=project.title,
        accepts_objections=accepts_objections(project, today),
        objection_deadline=project.objection_deadline,
    )


def accepts_objections(project: Project, today: date | None = None) -> bool:
    """A per-project objection is possible while the project applies objections, is not
    closed, and its objection deadline (if any) has not passed."""
    if not project.objections_applied or project.status.closed:
        return False
    return project.objection_deadline is None or _today(today) <= project.objection_deadline


# --------------------------------------------------------------------------- search documents

def search_document(project: Project) -> dict[str, Any]:
    """What the search engine indexes for a project (``registry.search.DOCUMENT_FIELDS``).

    Nothing that depends on the day: the due date and whether results exist, from which the
    search judges "overdue" at query time."""
    state = results_status(project)
    return {
        "id": project.id, "reference": project.reference,
        "title": project.title, "summary": project.summary, "objective": project.objective,
        "public_interest": project.public_interest,
        "sponsor_name": project.sponsor.name, "sponsor_kind": str(project.sponsor.kind),
        "city": project.sponsor.city,
        "themes": list(project.themes or []), "sources": [s.code for s in project.sources],
        "status": str(project.status),
        "year_authorised": project.authorised_on.year if project.authorised_on else None,
        "uses_ai": project.uses_ai, "has_results": state.has_results,
        "results_due_on": state.due_on, "updated_at": project.updated_at,
        # Words people search with that the text may not contain: theme names, source names.
        "keywords": " ".join([*(str(THEMES[t]) for t in project.themes or [] if t in THEMES),
                              *(f"{s.code} {s.name}" for s in project.sources)]),
    }


def iter_search_documents(session: Session, ids: list[int] | None = None):
    """Every project's search document (or only ``ids``), streaming in batches."""
    statement = select(Project).options(selectinload(Project.sponsor),
                                        selectinload(Project.sources),
                                        selectinload(Project.results)).order_by(Project.id)
    if ids is not None:
        statement = statement.where(Project.id.in_(ids))
    for project in session.scalars(statement):
        yield search_document(project)


def count_projects(session: Session) -> int:
    return session.scalar(select(func.count(Project.id))) or 0


def search_stamps(session: Session) -> dict[int, int]:
    """Project id → ``registry.search.stamp`` of its current version: what a complete,
    up-to-date index holds (``registry.search.index_problem`` compares the two)."""
    from registry.search import stamp

    return {project_id: stamp(updated_at) for project_id, updated_at
            in session.execute(select(Project.id, Project.updated_at))}


_PENDING_KEY = "registry_reindex_ids"


def _queue_reindex(session: Session, project_id: int) -> None:
    """Remember the project so the search index is updated once the transaction commits."""
    pending = session.info.setdefault(_PENDING_KEY, set())
    pending.add(project_id)
    if not session.info.get("registry_reindex_hooked"):
        session.info["registry_reindex_hooked"] = True
        event.listen(session, "after_commit", _reindex_after_commit)
        event.listen(session, "after_rollback", _forget_pending)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _reindex_after_commit(session: Session) -> None:
    ids = sorted(session.info.pop(_PENDING_KEY, set()))
    if not ids:
        return
    from flask import current_app, has_app_context

    if not has_app_context():
        return
    from registry import search

    bind = session.get_bind()
    with Session(bind=bind) as reader:
        documents = list(iter_search_documents(reader, ids))
    search.index_projects(current_app._get_current_object(), documents)  # type: ignore[attr-defined]
