"""How the register is shown: labels for codes, and the JSON shape of the open data.

The JSON shape is documented by ``registry/openapi.py``; a test validates every API response
against it, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.models import (
    THEMES,
    DataSource,
    LegalBasis,
    Organisation,
    OrganisationKind,
    ProcessingLocation,
    Project,
    ProjectRevision,
    ProjectStatus,
)
from registry.service import results_status
from registry.validation import doi_name, web_address

YES_NO_LABELS = {"oui": _l("Oui"), "non": _l("Non")}
FACET_TITLES = {
    "status": _l("Statut"), "theme": _l("Thème"), "source": _l("Source de données"),
    "sponsor_kind": _l("Type de promoteur"), "year": _l("Année d'autorisation"),
    "ai": _l("Utilise l'intelligence artificielle"), "results": _l("Résultats publiés"),
    "overdue": _l("Résultats en retard"),
}
FIELD_LABELS = {
    "title": _l("Titre"), "summary": _l("Résumé"), "objective": _l("Objectif scientifique"),
    "public_interest": _l("Intérêt public"), "sponsor": _l("Promoteur"),
    "controller": _l("Responsable de traitement"), "funders": _l("Financeurs"),
    "sources": _l("Sources de données"), "population": _l("Population étudiée"),
    "period_start_year": _l("Début de la période étudiée"),
    "period_end_year": _l("Fin de la période étudiée"),
    "uses_ai": _l("Intelligence artificielle"), "data_linkage": _l("Appariement de données"),
    "legal_basis": _l("Base légale"), "commercial": _l("But commercial"),
    "processing_location": _l("Lieu de traitement des données"),
    "processing_location_detail": _l("Précision sur le lieu de traitement"),
    "objections_applied": _l("Oppositions appliquées"),
    "objection_exception_reason": _l("Raison de la non-application des oppositions"),
    "themes": _l("Thèmes"), "status": _l("Statut"), "cnil_decision": _l("Décision de la CNIL"),
    "authorised_on": _l("Date d'autorisation"), "planned_end": _l("Fin prévue"),
    "processing_ended_on": _l("Fin du traitement des données"),
    "objection_deadline": _l("Date limite d'opposition"),
    "status_events": _l("Étapes"), "results": _l("Résultats"),
}
# An organisation's role in a project (``service.ORGANISATION_ROLES``).
ROLE_LABELS = {"sponsor": _l("Promoteur"), "controller": _l("Responsable de traitement"),
               "funder": _l("Financeur")}

# Fields whose values are free text written in French (marked lang="fr" on other languages).
FRENCH_TEXT_FIELDS = frozenset({
    "title", "summary", "objective", "public_interest", "sponsor", "controller", "funders",
    "population", "processing_location_detail", "objection_exception_reason", "results",
})


def facet_label(facet: str, value: str, source_names: dict[str, str] | None = None) -> str:
    try:
        if facet == "status":
            return ProjectStatus(value).label
        if facet == "theme":
            return str(THEMES.get(value, value))
        if facet == "sponsor_kind":
            return OrganisationKind(value).label
        if facet in ("ai", "results"):
            return str(YES_NO_LABELS.get(value, value))
        if facet == "overdue":
            return str(_l("Résultats attendus en retard"))
        if facet == "source" and source_names:
            return source_names.get(value, value)
    except ValueError:
        pass
    return value


def allowed_facet_values(source_codes: list[str]) -> dict[str, set[str]]:
    return {
        "status": {s.value for s in ProjectStatus},
        "theme": set(THEMES),
        "source": set(source_codes),
        "sponsor_kind": {k.value for k in OrganisationKind},
        "year": {str(y) for y in range(2000, 2101)},
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def organisation_json(org: Organisation | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {"name": org.name, "slug": org.slug, "kind": str(org.kind), "city": org.city}


def project_summary_json(project: Project, site_url: str, today: date | None = None) -> dict:
    state = results_status(project, today)
    return {
        "reference": project.reference,
        "title": project.title,
        "summary": project.summary,
        "url": f"{site_url}/projets/{project.reference}",
        "sponsor": organisation_json(project.sponsor),
        "status": str(project.status),
        "themes": list(project.themes or []),
        "sources": [s.code for s in project.sources],
        "uses_ai": project.uses_ai,
        "authorised_on": _iso(project.authorised_on),
        "results_count": len(project.results),
        "processing_ended_on": _iso(project.processing_ended_on),
        "results_due_on": _iso(state.due_on),
        "results_overdue": state.overdue,
        "results_overdue_months": state.overdue_months,
        "updated_at": _iso(project.updated_at),
    }


def project_detail_json(project: Project, site_url: str, today: date | None = None) -> dict:
    data = project_summary_json(project, site_url, today)
    data.update({
        "objective": project.objective,
        "public_interest": project.public_interest,
        "controller": organisation_json(project.controller),
        "funders": [organisation_json(f) for f in project.funders],
        "population": project.population,
        "period": {"start_year": project.period_start_year, "end_year": project.period_end_year},
        "data_linkage": project.data_linkage,
        "legal_basis": str(project.legal_basis),
        "commercial": project.commercial,
        "processing_location": str(project.processing_location),
        "processing_location_detail": project.processing_location_detail,
        "objections_applied": project.objections_applied,
        "objection_exception_reason": project.objection_exception_reason or None,
        "cnil_decision": project.cnil_decision or None,
        "planned_end": _iso(project.planned_end),
        "objection_deadline": _iso(project.objection_deadline),
        "created_at": _iso(project.created_at),
        "status_history": [
            {"status": str(e.status), "date": e.happened_on.isoformat(),
             "decision_number": e.decision_number or None, "note": e.note or None}
            for e in project.status_events
        ],
        "results": [
            {"kind": str(r.kind), "title": r.title, "published_on": r.published_on.isoformat(),
             "url": web_address(r.url), "doi": doi_name(r.doi), "summary": r.summary or None}
            for r in project.results
        ],
        "revisions": [revision_json(r) for r in project.revisions],
    })
    return data


def revision_json(revision: ProjectRevision) -> dict:
    return {"number": revision.number, "created_at": _iso(revision.created_at),
            "author": revision.author, "changed_fields": list(revision.changed_fields or [])}


def source_json(source: DataSource, project_count: int, site_url: str) -> dict:
    return {"code": source.code, "name": source.name, "kind": str(source.kind),
            "holder": source.holder, "description": source.description,
            "content": source.content, "since_year": source.since_year,
            "url": f"{site_url}/sources/{source.code}", "projects_count": project_count}


def value_label(field: str, value: Any) -> str:
    """A revision value as a citizen reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(YES_NO_LABELS["oui" if value else "non"])
    try:
        if field == "status":
            return ProjectStatus(value).label
        if field == "legal_basis":
            return LegalBasis(value).label
        if field == "processing_location":
            return ProcessingLocation(value).label
    except ValueError:
        return str(value)
    if field == "themes":
        return ", ".join(str(THEMES.get(t, t)) for t in value)
    if field == "status_events":
        return "; ".join(f"{e['date']} : {value_label('status', e['status'])}" for e in value)
    if field == "results":
        return "; ".join(f"{r['published_on']} : {r['title']}" for r in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)




# --------------------------------------------------------------------------- CSV cells

# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): =, +, -, @, and
# a tab or carriage return before them. Such a cell gets a leading apostrophe, which Excel and
# LibreOffice read as "text" and do not show; a cell that already starts with apostrophes
# before one of them gets one more, so ``csv_value`` undoes exactly what ``csv_cell`` did.
_FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")


def csv_cell(value: object) -> object:
    """A value as the site's CSV export writes it: text a spreadsheet would take for a
    formula is neutralised with a leading apostrophe."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def csv_value(cell: str) -> str:
    """A CSV cell as the importer reads it: the apostrophe ``csv_cell`` added is removed, so
    the site's own export imports back unchanged."""
    if cell.startswith("'") and _FORMULA_START.match(cell[1:]):
        return cell[1:]
    return cell
