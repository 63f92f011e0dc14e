"""Checks on a project before it enters the register, without writing anything.

``prepare_project`` reads the current state (the project, the organisations it names, the data
sources), checks every field against the register's rules and the sizes of the columns
(``registry.validation``), collects *every* problem rather than stopping at the first, and works
out the project's public state after the change (``registry.revisions``).
``registry.service.write_project`` then writes it. The importer prepares every row of a file
before writing any, so a file with one bad row changes nothing and a dry run never writes.

Input keys are the fields' names (``registry.fields``). For a project that exists, a key left
out keeps the current value; for a new project it takes its default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.clock import local_today
from registry.catalogue import DATA_SOURCES
from registry.codes import (
    THEMES,
    LegalBasis,
    OrganisationKind,
    ProcessingLocation,
    ProjectStatus,
    parse_reference,
)
from registry.models import DataSource, Organisation, Project
from registry.revisions import DATE_FIELDS, changed_fields, project_input, public_state, snapshot
from registry.validation import Checks, RegistryError, column_size

# --------------------------------------------------------------------------- organisations

@dataclass
class OrganisationPlan:
    """An organisation a project names: an existing one, or one to create.

    ``kind`` and ``city`` are what the data says explicitly; ``default_kind`` is only used to
    create the organisation when no kind is given (a funder or controller named in passing
    never changes what an existing organisation is)."""

    name: str
    existing: Organisation | None
    kind: str | None = None
    city: str | None = None
    default_kind: str | None = None

    @property
    def creation_kind(self) -> str | None:
        return self.kind or self.default_kind

    def changes(self) -> list[str]:
        if self.existing is None:
            return []
        found = []
        if self.kind and self.kind != str(self.existing.kind):
            found.append(f"« {self.name} » : type {self.existing.kind} → {self.kind}")
        if self.city and self.city != self.existing.city:
            found.append(f"« {self.name} » : ville « {self.existing.city} » → « {self.city} »")
        return found


def find_organisation(session: Session, name: str) -> Organisation | None:
    """The organisation called ``name``, pending in the session or in the database."""
    pending = next((o for o in session.new if isinstance(o, Organisation) and o.name == name),
                   None)
    if pending is not None:
        return pending
    with session.no_autoflush:
        return session.scalar(select(Organisation).where(Organisation.name == name))


# --------------------------------------------------------------------------- preparing

@dataclass
class PreparedProject:
    """A project's data, checked, with what saving it would change."""

    reference: str
    project: Project | None
    errors: list[RegistryError]
    values: dict[str, Any] = field(default_factory=dict)
    sponsor: OrganisationPlan | None = None
    controller: OrganisationPlan | None = None
    funders: list[OrganisationPlan] = field(default_factory=list)
    source_codes: list[str] = field(default_factory=list)
    events: list[tuple[ProjectStatus, date, str, str]] = field(default_factory=list)
    results: list[dict[str, Any]] | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def creating(self) -> bool:
        return self.project is None

    @property
    def changed(self) -> list[str]:
        """Public fields that saving would change (all of them for a new project)."""
        return changed_fields(self.before, self.after)

    @property
    def organisation_changes(self) -> list[str]:
        plans = [self.sponsor, self.controller, *self.funders]
        return [change for plan in plans if plan is not None for change in plan.changes()]


def load_project(session: Session, reference: str) -> Project | None:
    with session.no_autoflush:
        return session.scalar(
            select(Project).where(Project.reference == reference)
            .options(selectinload(Project.sources), selectinload(Project.funders),
                     selectinload(Project.status_events), selectinload(Project.results),
                     selectinload(Project.revisions), selectinload(Project.sponsor),
                     selectinload(Project.controller)))


def prepare_project(session: Session, data: dict[str, Any], *,
                    today: date | None = None) -> PreparedProject:
    """Check ``data`` against every rule of the register and work out the project's state
    after saving it, without writing anything. Every problem is in ``errors``."""
    today = today or local_today()
    checks = Checks()
    reference = checks.text(data.get("reference"), "reference", required=True).upper()
    if reference and parse_reference(reference) is None:
        checks.fail("reference", "référence invalide (attendu HDH-AAAA-NNNN)")
        reference = ""
    project = load_project(session, reference) if reference else None
    before = snapshot(project) if project is not None else None
    merged = {**(project_input(project) if project is not None else {}), **data}
    values: dict[str, Any] = {}

    values["title"] = checks.text(merged.get("title"), "title", required=True,
                                  size=column_size(Project, "title"))
    for key in ("summary", "objective", "public_interest"):
        values[key] = checks.text(merged.get(key), key, required=True)
    values["population"] = checks.text(merged.get("population"), "population")

    sponsor, controller, funders = _organisations(session, checks, data, merged)

    codes = list(dict.fromkeys(c.upper() for c in checks.texts(merged.get("sources"),
                                                              "sources")))
    known = set(session.scalars(select(DataSource.code))) | {s["code"] for s in DATA_SOURCES}
    unknown = [c for c in codes if c not in known]
    if unknown:
        checks.fail("sources", f"source(s) inconnue(s) : {', '.join(unknown)}")
    elif not codes and not checks.failed("sources"):
        checks.fail("sources", "au moins une source de données est obligatoire")

    for key in ("period_start_year", "period_end_year"):
        values[key] = checks.year(merged.get(key), key)
    if (values["period_start_year"] and values["period_end_year"]
            and values["period_end_year"] < values["period_start_year"]):
        checks.fail("period_end_year", "la fin de la période précède son début")
    for key in ("uses_ai", "data_linkage", "commercial"):
        values[key] = checks.boolean(merged.get(key), key, False)
    values["legal_basis"] = checks.choice(LegalBasis, merged.get("legal_basis"), "legal_basis",
                                          LegalBasis.CNIL_AUTHORISATION)
    values["processing_location"] = checks.choice(
        ProcessingLocation, merged.get("processing_location"), "processing_location",
        ProcessingLocation.PLATFORM)
    values["processing_location_detail"] = checks.text(
        merged.get("processing_location_detail"), "processing_location_detail",
        size=column_size(Project, "processing_location_detail"))
    values["objections_applied"] = checks.boolean(merged.get("objections_applied"),
                                                  "objections_applied", True)
    values["objection_exception_reason"] = checks.text(
        merged.get("objection_exception_reason"), "objection_exception_reason")
    if not values["objections_applied"] and not values["objection_exception_reason"] \
            and not checks.failed("objection_exception_reason"):
        checks.fail("objection_exception_reason",
                    "obligatoire quand les oppositions ne s'appliquent pas")
    themes = list(dict.fromkeys(checks.texts(merged.get("themes"), "themes")))
    unknown_themes = [t for t in themes if t not in THEMES]
    if unknown_themes:
        checks.fail("themes", f"thème(s) inconnu(s) : {', '.join(unknown_themes)}")
    values["themes"] = themes
    status = checks.choice(ProjectStatus, merged.get("status"), "status",
                           ProjectStatus.SUBMITTED)
    values["status"] = status
    values["cnil_decision"] = checks.text(merged.get("cnil_decision"), "cnil_decision",
                                          size=column_size(Project, "cnil_decision"))
    for key in DATE_FIELDS:
        values[key] = checks.day(merged.get(key), key)

    events = _events(checks, project, data, values, today)
    if values["authorised_on"] is None and not checks.failed("authorised_on"):
        # The authorisation date is the day of the authorisation step, when there is one.
        values["authorised_on"] = next(
            (day for step, day, _, _ in events if step == ProjectStatus.CNIL_AUTHORISED), None)
    if status is not None and status.ends_processing and values["processing_ended_on"] is None \
            and not checks.failed("processing_ended_on"):
        checks.fail("processing_ended_on", f"obligatoire quand le statut est « {status} »")
    results = checks.results(data["results"]) if "results" in data else None

    prepared = PreparedProject(reference=reference, project=project, errors=checks.errors,
                               before=before)
    if checks.errors:
        return prepared
    prepared.values, prepared.source_codes = values, codes
    prepared.sponsor, prepared.controller, prepared.funders = sponsor, controller, funders
    prepared.events, prepared.results = events, results
    prepared.after = public_state(
        reference=reference, values=values, sponsor=sponsor.name if sponsor else None,
        controller=controller.name if controller else None,
        funders=[f.name for f in funders], sources=codes, events=events,
        results=results if results is not None else [
            {"kind": r.kind, "title": r.title, "published_on": r.published_on, "url": r.url,
             "doi": r.doi, "summary": r.summary} for r in (project.results if project else [])])
    return prepared


def _organisations(session: Session, checks: Checks, data: dict, merged: dict
                   ) -> tuple[OrganisationPlan | None, OrganisationPlan | None,
                              list[OrganisationPlan]]:
    """The sponsor, controller and funders named by the data. Kinds and cities count only
    when the data gives them (``data``, not the merged current state)."""
    city_size = column_size(Organisation, "city")

    def kind_of(key: str, value: Any, what: str = "") -> str | None:
        kind = checks.choice(OrganisationKind, value, key, what=what)
        return str(kind) if kind is not None else None

    def city_of(key: str, value: Any, what: str = "") -> str | None:
        return checks.text(value, key, size=city_size, what=what) or None

    sponsor = None
    name = checks.name(merged.get("sponsor"), "sponsor", required=True)
    kind = kind_of("sponsor_kind", data.get("sponsor_kind"))
    city = city_of("sponsor_city", data.get("sponsor_city"))
    if name:
        sponsor = OrganisationPlan(name, find_organisation(session, name), kind, city)
        if sponsor.existing is None and kind is None and not checks.failed("sponsor_kind"):
            checks.fail("sponsor_kind", "type d'organisation obligatoire pour un nouveau "
                                        "promoteur")
    sponsor_kind = (sponsor.kind or (str(sponsor.existing.kind) if sponsor.existing else None)
                    if sponsor else None)

    controller = None
    name = checks.name(merged.get("controller"), "controller")
    kind = kind_of("controller_kind", data.get("controller_kind"))
    city = city_of("controller_city", data.get("controller_city"))
    if name and (sponsor is None or name != sponsor.name):
        controller = OrganisationPlan(name, find_organisation(session, name), kind, city,
                                      default_kind=sponsor_kind)

    names = [checks.name(n, "funders", what="financeur : ") for n in
             checks.items(merged.get("funders"), "funders")]
    if any(not n for n in names) and not checks.failed("funders"):
        checks.fail("funders", "un financeur sans nom")
    kinds = checks.items(data.get("funder_kinds"), "funder_kinds")
    cities = checks.items(data.get("funder_cities"), "funder_cities")
    for key, listed in (("funder_kinds", kinds), ("funder_cities", cities)):
        if listed and len(listed) != len(names):
            checks.fail(key, f"{len(listed)} valeur(s) pour {len(names)} financeur(s)")
    funders: dict[str, OrganisationPlan] = {}
    for index, name in enumerate(names):
        what = f"financeur {index + 1} : "
        kind = kind_of("funder_kinds", kinds[index], what) if index < len(kinds) else None
        city = city_of("funder_cities", cities[index], what) if index < len(cities) else None
        if name and name not in funders:
            funders[name] = OrganisationPlan(name, find_organisation(session, name), kind,
                                             city, default_kind=OrganisationKind.AGENCY.value)
    return sponsor, controller, list(funders.values())


def _events(checks: Checks, project: Project | None, data: dict, values: dict,
            today: date) -> list[tuple[ProjectStatus, date, str, str]]:
    """The dated steps: the ones given, or the current ones plus a step for a new status."""
    status_date = checks.day(data.get("status_date"), "status_date")
    events = [(e.status, e.happened_on, e.decision_number, e.note)
              for e in (project.status_events if project else [])]
    if "status_events" in data:
        return checks.events(data["status_events"], events, values["cnil_decision"] or "")
    status = values["status"]
    if status is None or (project is not None and project.status == status):
        return events
    last = max((e[1] for e in events), default=None)
    if status_date is not None:
        if status_date > today:
            checks.fail("status_date", "date dans le futur")
        elif last is not None and status_date < last:
            checks.fail("status_date", f"antérieure à la dernière étape ({last.isoformat()})")
    fallback = {ProjectStatus.CNIL_AUTHORISED: values["authorised_on"],
                ProjectStatus.FINISHED: values["processing_ended_on"],
                ProjectStatus.ABANDONED: values["processing_ended_on"]}.get(status)
    day = status_date or fallback or max(today, last or today)
    decision = values["cnil_decision"] if status == ProjectStatus.CNIL_AUTHORISED else ""
    return [*events, (status, day, decision or "", "")]
