"""What the search engine indexes for a project, read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from registry.codes import THEMES
from registry.models import Project
from registry.rules import results_status
from registry.search.types import stamp


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
        "sponsor_slug": project.sponsor.slug,
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


def iter_search_documents(session: Session, ids: list[int] | None = None
                          ) -> Iterator[dict[str, Any]]:
    """Every published project's search document (or only those among ``ids``), streaming
    in batches. A draft or unpublished project has none: it is not in the index."""
    statement = select(Project).options(selectinload(Project.sponsor),
                                        selectinload(Project.sources),
                                        selectinload(Project.results)).order_by(Project.id)
    statement = statement.where(Project.published.is_(True))
    if ids is not None:
        statement = statement.where(Project.id.in_(ids))
    for project in session.scalars(statement):
        yield search_document(project)


def search_stamps(session: Session) -> dict[int, int]:
    """Project id → ``registry.search.stamp`` of its current version: what a complete,
    up-to-date index holds (``registry.search.index_problem`` compares the two)."""
    return {project_id: stamp(updated_at) for project_id, updated_at
            in session.execute(select(Project.id, Project.updated_at)
                               .where(Project.published.is_(True)))}
