"""Checks on a project before it enters the register, without writing anything.

``prepare_project`` reads the current state (the project, the organisations it names, the data
sources), checks every field against the register's rules and the sizes of the columns, collects
*every* problem rather than stopping at the first, and works out the project's public state after
the change. ``registry.service.save_project`` then writes it. The importer prepares every row of a
file before writing any, so a file with one bad row changes nothing and a dry run never writes.

Input keys are the service's field names (see ``PUBLIC_FIELDS``). For a project that exists, a key
left out keeps the current value; for a new project it takes its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.clock import local_today
from registry.catalogue import DATA_SOURCES
from registry.models import (
    REFERENCE_PATTERN,
    THEMES,
    DataSource,
    LegalBasis,
    Organisation,
    OrganisationKind,
    ProcessingLocation,
    Project,
    ProjectStatus,
    Result,
    ResultKind,
    StatusEvent,
)

# Plausible bounds: years of data studied, and dates on the authorisation path. They keep junk
# (year 0, 10^20) out of integer columns and out of date arithmetic (results due 18 months on).
YEAR_MIN, YEAR_MAX = 1900, 2100
DATE_MIN, DATE_MAX = date(1990, 1, 1), date(2100, 12, 31)

_REFERENCE = re.compile(REFERENCE_PATTERN)
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
# Control characters (PostgreSQL refuses NUL) and lone surrogates (not encodable in UTF-8).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CLOSING_STATUSES = (ProjectStatus.FINISHED, ProjectStatus.ABANDONED)

PUBLIC_FIELDS = (
    "title", "summary", "objective", "public_interest", "sponsor", "controller", "funders",
    "sources", "population", "period_start_year", "period_end_year", "uses_ai", "data_linkage",
    "legal_basis", "commercial", "processing_location", "processing_location_detail",
    "objections_applied", "objection_exception_reason", "themes", "status", "cnil_decision",
    "authorised_on", "planned_end", "processing_ended_on", "objection_deadline",
    "status_events", "results",
)
_DATE_FIELDS = ("authorised_on", "planned_end", "processing_ended_on", "objection_deadline")


_DOI = re.compile(r"^10\.[0-9]+(?:\.[0-9]+)*/\S+$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                 "http://dx.doi.org/", "doi:")


def web_address(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) address with a host and no spaces, else None.
    The only addresses the register stores and links to (no ``javascript:``, ``data:`` …)."""
    if not value or re.search(r"\s", value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def doi_name(value: str | None) -> str | None:
    """The DOI in ``value`` (``10.1234/abc``, also written ``doi:…`` or as a doi.org link),
    or None when it is not one."""
    if not value:
        return None
    text = value.strip()
    for prefix in _DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    return text if _DOI.match(text) else None


class RegistryError(ValueError):
    """Data that cannot enter the register; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidProject(RegistryError):
    """Every problem found in a project's data (``errors``); ``field`` is the first one's."""

    def __init__(self, errors: list[RegistryError]):
        super().__init__(errors[0].field, errors[0].message)
        self.errors = errors


def column_size(model: type, name: str) -> int | None:
    """The length of a String column: the data's limits come from the schema itself."""
    return getattr(model.__table__.c[name].type, "length", None)


def normalise_name(name: str) -> str:
    """An organisation's name with its spaces tidied (so one organisation is one row)."""
    return " ".join(name.split())


# --------------------------------------------------------------------------- public state

def snapshot(project: Project) -> dict[str, Any]:
    """The public state of a project as plain JSON values (what a revision keeps)."""
    return _public_state(
        reference=project.reference,
        values={key: getattr(project, key) for key in _VALUE_FIELDS},
        sponsor=project.sponsor.name if project.sponsor else None,
        controller=project.controller.name if project.controller else None,
        funders=[f.name for f in project.funders],
        sources=[s.code for s in project.sources],
        events=[(e.status, e.happened_on, e.decision_number, e.note)
                for e in project.status_events],
        results=[{"kind": r.kind, "title": r.title, "published_on": r.published_on,
                  "url": r.url, "doi": r.doi, "summary": r.summary} for r in project.results],
    )


_VALUE_FIELDS = (
    "title", "summary", "objective", "public_interest", "population", "period_start_year",
    "period_end_year", "uses_ai", "data_linkage", "legal_basis", "commercial",
    "processing_location", "processing_location_detail", "objections_applied",
    "objection_exception_reason", "themes", "status", "cnil_decision", *_DATE_FIELDS,
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _public_state(*, reference: str, values: dict[str, Any], sponsor: str | None,
                  controller: str | None, funders: list[str], sources: list[str],
                  events: list[tuple], results: list[dict]) -> dict[str, Any]:
    state: dict[str, Any] = {"reference": reference}
    for key in _VALUE_FIELDS:
        value = values[key]
        if key in ("legal_basis", "processing_location", "status"):
            value = str(value)
        elif key in _DATE_FIELDS:
            value = _iso(value)
        elif key == "themes":
            value = sorted(value or [])
        state[key] = value
    state.update({
        "sponsor": sponsor, "controller": controller, "funders": sorted(funders),
        "sources": sorted(sources),
        "status_events": [
            {"status": str(status), "date": day.isoformat(), "decision_number": number,
             "note": note}
            for status, day, number, note in sorted(events, key=lambda e: (e[1], str(e[0])))
        ],
        "results": [
            {"kind": str(r["kind"]), "title": r["title"],
             "published_on": r["published_on"].isoformat(), "url": r["url"], "doi": r["doi"],
             "summary": r["summary"]}
            for r in sorted(results, key=lambda r: (r["published_on"], r["title"]))
        ],
    })
    return state


def project_input(project: Project) -> dict[str, Any]:
    """The current public state of ``project`` as ``save_project`` input."""
    data = snapshot(project)
    data["controller"] = data["controller"] or ""
    return data


# --------------------------------------------------------------------------- field checks

def _shown(value: Any) -> str:
    """A short, printable version of a bad value for an error message."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return "?"
    try:
        text = str(value)
    except ValueError:
        return "?"
    text = _FORBIDDEN.sub("?", text)
    return text if len(text) <= 40 else text[:39] + "…"


class _Checks:
    """Cleans values one by one, collecting every problem instead of raising the first."""

    def __init__(self) -> None:
        self.errors: list[RegistryError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(RegistryError(field, message))

    def failed(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def text(self, value: Any, field: str, *, required: bool = False, size: int | None = None,
             what: str = "") -> str:
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(field, f"{what}texte attendu")
            return ""
        try:
            value = str(value).strip()
        except ValueError:  # an integer too long to print
            self.fail(field, f"{what}valeur invalide")
            return ""
        if _FORBIDDEN.search(value):
            self.fail(field, f"{what}caractère de contrôle interdit")
            return ""
        if required and not value:
            self.fail(field, f"{what}champ obligatoire")
        elif size and len(value) > size:
            self.fail(field, f"{what}trop long : {len(value)} caractères (au plus {size})")
            return ""
        return value

    def name(self, value: Any, field: str, *, required: bool = False, what: str = "") -> str:
        return normalise_name(self.text(value, field, required=required, what=what,
                                        size=column_size(Organisation, "name")))

    def items(self, value: Any, field: str) -> list[Any]:
        if value is None or value == "":
            return []
        if not isinstance(value, list | tuple):
            self.fail(field, "liste attendue")
            return []
        return list(value)

    def texts(self, value: Any, field: str) -> list[str]:
        cleaned = []
        for item in self.items(value, field):
            if isinstance(item, bool) or not isinstance(item, str | int):
                self.fail(field, f"valeur « {_shown(item)} » invalide")
                continue
            text = self.text(item, field)
            if text:
                cleaned.append(text)
        return cleaned

    def boolean(self, value: Any, field: str, default: bool) -> bool:
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self.fail(field, "oui ou non attendu")
        return default

    def choice(self, kind: type, value: Any, field: str, default: str | None = None,
               what: str = ""):
        if value is None or value == "":
            if default is None:
                return None
            value = default
        try:
            return kind(value)
        except (ValueError, TypeError):
            allowed = ", ".join(m.value for m in kind)
            shown = _shown(value)
            self.fail(field, f"{what}valeur « {shown} » inconnue (valeurs possibles : {allowed})")
            return None

    def year(self, value: Any, field: str) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            year = value
        else:
            text = value.strip() if isinstance(value, str) else ""
            if not _INTEGER.match(text):
                self.fail(field, "année invalide (attendu AAAA, par exemple 2015)")
                return None
            year = int(text) if len(text) <= 6 else YEAR_MAX + 1
        if not YEAR_MIN <= year <= YEAR_MAX:
            self.fail(field, f"année hors limites (entre {YEAR_MIN} et {YEAR_MAX})")
            return None
        return year

    def day(self, value: Any, field: str, *, required: bool = False, what: str = ""
            ) -> date | None:
        if value is None or value == "":
            if required:
                self.fail(field, f"{what}date obligatoire")
            return None
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            text = value.strip() if isinstance(value, str) else ""
            try:
                value = date.fromisoformat(text) if _ISO_DATE.match(text) else None
            except ValueError:
                value = None
            if value is None:
                self.fail(field, f"{what}date invalide (attendu AAAA-MM-JJ)")
                return None
        if not DATE_MIN <= value <= DATE_MAX:
            self.fail(field, f"{what}date hors limites (entre {DATE_MIN.isoformat()} et "
                             f"{DATE_MAX.isoformat()})")
            return None
        return value

    def events(self, value: Any, current: list[tuple] | None = None,
               cnil_decision: str = "") -> list[tuple[ProjectStatus, date, str, str]]:
        """Dated steps. A step that leaves out its decision number or note keeps those of the
        current step with the same status and date (the CSV export has neither); an
        authorisation step without a number takes the project's CNIL decision."""
        known = {(e[0], e[1]): e for e in current or []}
        events = []
        for number, item in enumerate(self.items(value, "status_events"), start=1):
            what = f"étape {number} : "
            if not isinstance(item, dict):
                self.fail("status_events", f"{what}objet attendu")
                continue
            status = self.choice(ProjectStatus, item.get("status"), "status_events",
                                 what=what)
            if item.get("status") in (None, ""):
                self.fail("status_events", f"{what}statut obligatoire")
            day = self.day(item.get("date"), "status_events", required=True, what=what)
            decision = self.text(item.get("decision_number"), "status_events", what=what,
                                 size=column_size(StatusEvent, "decision_number"))
            note = self.text(item.get("note"), "status_events", what=what)
            same = known.get((status, day))
            if item.get("decision_number") is None:
                decision = same[2] if same else (
                    cnil_decision if status == ProjectStatus.CNIL_AUTHORISED else "")
            if item.get("note") is None and same:
                note = same[3]
            if status is not None and day is not None:
                events.append((status, day, decision, note))
        return events

    def address(self, value: Any, what: str) -> str:
        """A result's link: empty, or an http(s) address (``web_address``)."""
        text = self.text(value, "results", what=what, size=column_size(Result, "url"))
        if text and web_address(text) is None:
            self.fail("results", f"{what}adresse « {_shown(text)} » invalide : une adresse "
                                 "web commençant par http:// ou https:// est attendue")
            return ""
        return text

    def doi(self, value: Any, what: str) -> str:
        """A result's DOI: empty, or a DOI (``10.1234/abc``; ``doi:`` and doi.org links are
        accepted and stored as the bare DOI)."""
        text = self.text(value, "results", what=what, size=column_size(Result, "doi"))
        if not text:
            return ""
        name = doi_name(text)
        if name is None:
            self.fail("results", f"{what}DOI « {_shown(text)} » invalide (attendu "
                                 "10.NNNN/…, par exemple 10.1234/abc)")
            return ""
        return name

    def results(self, value: Any) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for number, item in enumerate(self.items(value, "results"), start=1):
            what = f"résultat {number} : "
            if not isinstance(item, dict):
                self.fail("results", f"{what}objet attendu")
                continue
            title = self.text(item.get("title"), "results", required=True, what=what,
                              size=column_size(Result, "title"))
            result = {
                "title": title,
                "kind": self.choice(ResultKind, item.get("kind"), "results", "article", what),
                "published_on": self.day(item.get("published_on"), "results", required=True,
                                         what=what),
                "url": self.address(item.get("url"), what),
                "doi": self.doi(item.get("doi"), what),
                "summary": self.text(item.get("summary"), "results", what=what),
            }
            if title and any(r["title"] == title for r in results):
                self.fail("results", f"{what}titre « {title[:60]} » en double")
            elif None not in result.values() and title:
                results.append(result)
        return results


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
        return [k for k in PUBLIC_FIELDS
                if self.before is None or self.before.get(k) != self.after.get(k)]

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
    checks = _Checks()
    reference = checks.text(data.get("reference"), "reference", required=True).upper()
    if reference and not _REFERENCE.match(reference):
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
    for key in _DATE_FIELDS:
        values[key] = checks.day(merged.get(key), key)

    events = _events(checks, project, data, values, today)
    if values["authorised_on"] is None and not checks.failed("authorised_on"):
        # The authorisation date is the day of the authorisation step, when there is one.
        values["authorised_on"] = next(
            (day for step, day, _, _ in events if step == ProjectStatus.CNIL_AUTHORISED), None)
    if status in CLOSING_STATUSES and values["processing_ended_on"] is None \
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
    prepared.after = _public_state(
        reference=reference, values=values, sponsor=sponsor.name if sponsor else None,
        controller=controller.name if controller else None,
        funders=[f.name for f in funders], sources=codes, events=events,
        results=results if results is not None else [
            {"kind": r.kind, "title": r.title, "published_on": r.published_on, "url": r.url,
             "doi": r.doi, "summary": r.summary} for r in (project.results if project else [])])
    return prepared


def _organisations(session: Session, checks: _Checks, data: dict, merged: dict
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


def _events(checks: _Checks, project: Project | None, data: dict, values: dict,
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
