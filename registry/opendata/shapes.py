"""The JSON shape of the register's open data (the API and ``/projets.json``), documented by
``registry.opendata.openapi``; a test validates every API response against it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from registry.models import DataSource, Organisation, Project, ProjectRevision
from registry.rules import results_status
from registry.validation import doi_name, web_address

LICENCE = {"name": "Licence Ouverte 2.0 (etalab-2.0)", "id": "etalab-2.0",
           "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"}


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
