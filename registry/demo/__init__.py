"""A realistic, clearly fictional demo register, built from a fixed seed.

Organisations are invented (plausible French names; the city of an organisation is the one its
name gives, fictional towns included); the data sources are the real parts of the SNDS and real
catalogue databases, used only from the year they became available. Titles come from templates
that fit the kind of subject (a disease, an exposure, a prevention action, a care pathway, a
medicine, a risk). The authorisation path follows docs/sources-reference: a CESREES opinion, then
a CNIL authorisation with a decision number, or a declaration of conformity to a reference
methodology (MR-00x) without one.

Modules: ``organisations`` (invented names), ``subjects`` (what projects study, theme by
theme), ``projects`` (their paths, dates and results). Everything goes through
``service.save_project``, one version per step and per result, each dated on the day it
happened, so the history reads in order. No value depends on the clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from registry import service
from registry.demo.organisations import CITIES, PLACES, build_organisations, de, french
from registry.demo.projects import TODAY, build_projects, versions

__all__ = ["AUTHOR", "CITIES", "PLACES", "TODAY", "build_demo", "build_organisations",
           "build_projects", "de", "french", "versions"]
AUTHOR = "Équipe du registre (démonstration)"


def build_demo(session: Session, *, seed: int = 2026, count: int = 420,
               organisations: int = 72, today: date | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Fill an empty register with the demo; returns counts. Deterministic for a seed."""
    today = today or TODAY
    rng = random.Random(seed)
    service.sync_data_sources(session)
    orgs = build_organisations(rng, organisations)
    for org in orgs:
        service.get_or_create_organisation(session, org["name"], org["kind"], org["city"])
    revisions = 0
    for project in build_projects(rng, orgs, count, today):
        for moment, data in versions(project):
            service.save_project(session, data, by=AUTHOR, now=moment)
            revisions += 1
        if progress:
            progress(1)
    session.flush()
    return {"projects": count, "organisations": len(orgs), "revisions": revisions}
