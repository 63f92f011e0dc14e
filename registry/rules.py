"""What a project's state means on a given day (a calendar date in France).

* Results: under the EHDS (Regulation (EU) 2025/327, art. 61(4)), results are due 18 months
  after processing ends, for projects that had the data.
* Objections: a per-project objection is possible while the project applies objections, is not
  closed and its objection deadline has not passed.
* Its schema.org study status (JSON-LD on its page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.clock import add_months, local_today, months_between
from registry.codes import ProjectStatus
from registry.models import Project

RESULTS_DUE_MONTHS = 18  # EHDS, Regulation (EU) 2025/327, art. 61(4)


@dataclass(frozen=True)
class ResultsStatus:
    due_on: date | None            # 18 months after the end of processing
    has_results: bool
    overdue: bool                  # past due with no result
    overdue_months: int
    late: bool                     # first result published after the due date
    on_time: bool


def withdrawn_before_data(project: Project) -> bool:
    """Abandoned before any data were made available (no "données mises à disposition" or
    "en cours" step, ``ProjectStatus.has_data``): nothing was processed, so no results are
    due, and schema.org calls the study "Withdrawn" (``study_status``). A project abandoned
    later, or finished, processed data."""
    return project.status == ProjectStatus.ABANDONED and not any(
        event.status.has_data for event in project.status_events)


def results_status(project: Project, today: date | None = None) -> ResultsStatus:
    """Where a project stands with the EHDS rule: results due 18 months after processing ends,
    for projects that had the data (not for one withdrawn before, ``withdrawn_before_data``)."""
    return results_state(project.processing_ended_on, withdrawn_before_data(project),
                         min((r.published_on for r in project.results), default=None),
                         today or local_today())


def results_state(processing_ended_on: date | None, withdrawn: bool,
                  first_published: date | None, today: date) -> ResultsStatus:
    """``results_status`` from the facts it needs (the figures compute it for every project
    from one query, without loading projects)."""
    due = (add_months(processing_ended_on, RESULTS_DUE_MONTHS)
           if processing_ended_on and not withdrawn else None)
    has_results = first_published is not None
    overdue = bool(due and not has_results and today > due)
    return ResultsStatus(
        due_on=due, has_results=has_results, overdue=overdue,
        # Whole months late, at least 1 once overdue ("depuis 0 mois" would read as on time).
        overdue_months=max(1, months_between(due, today)) if overdue and due else 0,
        late=bool(due and first_published and first_published > due),
        on_time=bool(first_published and (due is None or first_published <= due)),
    )


def accepts_objections(project: Project, today: date | None = None) -> bool:
    """A per-project objection is possible while the project applies objections, is not
    closed, and its objection deadline (if any) has not passed."""
    if not project.objections_applied or project.status.closed:
        return False
    deadline = project.objection_deadline
    return deadline is None or (today or local_today()) <= deadline


def objections_closed_since(project: Project, today: date | None = None) -> date | None:
    """The day after the last day a per-project objection was possible, once it has passed
    (None while objections are open, or when the project never took them)."""
    deadline = project.objection_deadline
    if project.objections_applied and deadline and (today or local_today()) > deadline:
        return deadline + timedelta(days=1)
    return None


def study_status(project: Project) -> str:
    """The schema.org MedicalStudyStatus IRI of a project."""
    name = ("Withdrawn" if withdrawn_before_data(project)  # the rule that says no results
            else project.status.study_status)             # are due
    return f"https://schema.org/{name}"
