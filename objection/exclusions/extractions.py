"""Proof of application: the extractions the platform reports for a project, each with the
exclusion list it applied. A project's page shows them ("Données extraites le … en appliquant
les oppositions reçues jusqu'au …": the date that list was made); a follow-up page lists the
ones made since the filing took effect that applied it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.clock import local_date
from core.database import dialect_insert, scalar_reader
from objection.exclusions import state
from objection.exclusions.models import ExclusionExport, PlatformExtraction
from objection.models import Objection, Scope
from registry.queries import project_for_objection
from staff import audit

SHOWN = 24  #: extractions listed on a page (the newest); the count says how many in all


class ReportRefused(ValueError):
    """A report that cannot be recorded, with the reason (French, for the platform)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Extraction:
    project_reference: str
    project_title: str
    extracted_on: date
    sequence: int
    objections_until: date  #: the day the list it applied was made


def report(session: Session, reference: str, extracted_on: date, sequence: int, *,
           actor: str, now: datetime) -> tuple[PlatformExtraction | None, bool]:
    """Record that the platform extracted data for ``reference`` on ``extracted_on``, applying
    list ``sequence``. Returns (the extraction, whether it is new): the same report sent twice
    is recorded once. Raises ReportRefused: unknown project (404), a project objections do not
    apply to, a list never published, a date in the future (422)."""
    project = project_for_objection(session, reference)
    if project is None:
        raise ReportRefused(404, "Projet inconnu du registre.")
    if not project.objections_applied:
        raise ReportRefused(422, "Les oppositions ne s'appliquent pas à ce projet (exception "
                                 "prévue par la loi) : aucune liste d'exclusion n'y est "
                                 "appliquée.")
    the_state = state.read_state(session)
    if sequence < 1 or the_state is None or sequence > the_state.last_sequence:
        raise ReportRefused(422, "Cette liste d'exclusion n'a jamais été publiée.")
    if extracted_on > local_date(now):
        raise ReportRefused(422, "La date d'extraction est dans le futur.")
    made = session.scalar(select(func.min(ExclusionExport.generated_at))
                          .where(ExclusionExport.sequence == sequence))
    if made is not None and extracted_on < local_date(made):
        raise ReportRefused(422, "L'extraction serait antérieure à la liste qu'elle "
                                 "applique.")
    inserted = session.scalar(
        dialect_insert(session)(PlatformExtraction).values(
            project_reference=project.reference, extracted_on=extracted_on,
            exclusion_sequence=sequence, reported_at=now, reported_by=actor)
        .on_conflict_do_nothing().returning(PlatformExtraction.id))
    audit.record(session, "platform.extraction_reported", actor=actor,
                 target=f"project:{project.reference}", at=now,
                 detail={"extracted_on": extracted_on.isoformat(), "sequence": sequence,
                         "new": inserted is not None})
    extraction = session.scalar(select(PlatformExtraction).where(
        PlatformExtraction.project_reference == project.reference,
        PlatformExtraction.extracted_on == extracted_on,
        PlatformExtraction.exclusion_sequence == sequence))
    return extraction, inserted is not None


def _made_on(session: Session, sequences: set[int]) -> dict[int, date]:
    if not sequences:
        return {}
    rows = session.execute(select(ExclusionExport.sequence, func.min(
        ExclusionExport.generated_at)).where(ExclusionExport.sequence.in_(sequences))
        .group_by(ExclusionExport.sequence))
    return {sequence: local_date(moment) for sequence, moment in rows}


def for_project(session: Session, reference: str) -> tuple[list[Extraction], int]:
    """The newest extractions reported for a project, and how many in all."""
    where = PlatformExtraction.project_reference == reference
    total = session.scalar(select(func.count()).select_from(PlatformExtraction).where(where))
    rows = list(session.scalars(select(PlatformExtraction).where(where).order_by(
        PlatformExtraction.extracted_on.desc(), PlatformExtraction.id.desc()).limit(SHOWN)))
    made = _made_on(session, {row.exclusion_sequence for row in rows})
    return ([Extraction(row.project_reference, "", row.extracted_on, row.exclusion_sequence,
                        made.get(row.exclusion_sequence, row.extracted_on)) for row in rows],
            int(total or 0))


def applying(session: Session, objection: Objection) -> tuple[list[Extraction], int]:
    """The extractions that applied this filing: made with a list that covers it (its own
    sequence or a later one), on or after the day it took effect, for its project (or any
    project, for a general objection). None for a filing no longer in force."""
    if objection.exclusion_sequence is None or not objection.status.active:
        return [], 0
    conditions = [PlatformExtraction.exclusion_sequence >= objection.exclusion_sequence,
                  PlatformExtraction.extracted_on >= local_date(objection.effective_from)]
    if objection.scope == Scope.PROJECT:
        conditions.append(PlatformExtraction.project_reference == objection.project_reference)
    total = session.scalar(select(func.count()).select_from(PlatformExtraction)
                           .where(*conditions))
    rows = list(session.scalars(select(PlatformExtraction).where(*conditions).order_by(
        PlatformExtraction.extracted_on.desc(), PlatformExtraction.id.desc()).limit(SHOWN)))
    made = _made_on(session, {row.exclusion_sequence for row in rows})
    titles: dict[str, str] = {}
    for row in rows:
        if row.project_reference not in titles:
            project = project_for_objection(session, row.project_reference)
            titles[row.project_reference] = project.title if project else ""
    return ([Extraction(row.project_reference, titles[row.project_reference],
                        row.extracted_on, row.exclusion_sequence,
                        made.get(row.exclusion_sequence, row.extracted_on)) for row in rows],
            int(total or 0))


def version_reader(engine: Engine) -> Callable[[], str]:
    """The page cache's ``extractions`` source: the last report's id (one index read), so a
    project page shows a new extraction at once."""
    read = scalar_reader(engine, "SELECT max(id) FROM platform_extractions")
    return lambda: str(read() or 0)


def version(session: Session) -> str:
    return str(session.scalar(select(func.max(PlatformExtraction.id))) or 0)
