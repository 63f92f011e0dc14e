"""A project's public state as plain JSON values: what a revision keeps, what saving compares,
and the differences the history shows between two versions."""

from __future__ import annotations

from datetime import date
from typing import Any

from registry.fields import PUBLIC_FIELDS
from registry.models import Project

DATE_FIELDS = ("authorised_on", "planned_end", "processing_ended_on", "objection_deadline")
# Revised fields held in the project's own columns (the others are organisations, sources,
# steps and results).
VALUE_FIELDS = (
    "title", "summary", "objective", "public_interest", "population", "period_start_year",
    "period_end_year", "uses_ai", "data_linkage", "legal_basis", "commercial",
    "processing_location", "processing_location_detail", "objections_applied",
    "objection_exception_reason", "themes", "status", "cnil_decision", *DATE_FIELDS,
)


def snapshot(project: Project) -> dict[str, Any]:
    """The public state of a project as plain JSON values (what a revision keeps)."""
    return public_state(
        reference=project.reference,
        values={key: getattr(project, key) for key in VALUE_FIELDS},
        sponsor=project.sponsor.name if project.sponsor else None,
        controller=project.controller.name if project.controller else None,
        funders=[f.name for f in project.funders],
        sources=[s.code for s in project.sources],
        events=[(e.status, e.happened_on, e.decision_number, e.note)
                for e in project.status_events],
        results=[{"kind": r.kind, "title": r.title, "published_on": r.published_on,
                  "url": r.url, "doi": r.doi, "summary": r.summary} for r in project.results],
    )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def public_state(*, reference: str, values: dict[str, Any], sponsor: str | None,
                  controller: str | None, funders: list[str], sources: list[str],
                  events: list[tuple], results: list[dict]) -> dict[str, Any]:
    state: dict[str, Any] = {"reference": reference}
    for key in VALUE_FIELDS:
        value = values[key]
        if key in ("legal_basis", "processing_location", "status"):
            value = str(value)
        elif key in DATE_FIELDS:
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


def compare_revisions(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for every public field that differs."""
    return [(k, old.get(k), new.get(k)) for k in PUBLIC_FIELDS if old.get(k) != new.get(k)]


def changed_fields(before: dict | None, after: dict) -> list[str]:
    """The public fields ``after`` changes from ``before`` (all of them for a new project)."""
    return [k for k in PUBLIC_FIELDS if before is None or before.get(k) != after.get(k)]
