"""Small builders for register tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.extensions import db
from registry import service


def project_data(reference: str = "HDH-2024-0001", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": reference,
        "title": "Parcours de soins des enfants asthmatiques",
        "summary": "Ce projet étudie l'asthme des enfants suivis à l'hôpital.",
        "objective": "Décrire les hospitalisations pour asthme de l'enfant.",
        "public_interest": "Mieux organiser les soins des enfants.",
        "sponsor": "Centre hospitalier universitaire de Valmont",
        "sponsor_kind": "hopital",
        "sponsor_city": "Lyon",
        "sources": ["DCIR", "PMSI-MCO"],
        "themes": ["pediatrie"],
        "status": "en-cours",
        "authorised_on": "2024-03-01",
        "status_events": [{"status": "depose", "date": "2023-10-01"},
                          {"status": "autorise", "date": "2024-03-01",
                           "decision_number": "DR-2024-101"},
                          {"status": "en-cours", "date": "2024-06-01"}],
    }
    data.update(changes)
    return data


def make_project(reference: str = "HDH-2024-0001", by: str = "test", **changes: Any):
    """Save and commit a project (which also indexes it)."""
    session = db.session
    service.sync_data_sources(session)
    project, _ = service.save_project(session, project_data(reference, **changes), by=by)
    session.commit()
    return project


def finished(reference: str, ended: str, results: list[dict] | None = None, **changes: Any):
    return make_project(reference, status="termine", processing_ended_on=ended,
                        results=results or [], **changes)


TODAY = date(2026, 11, 1)
