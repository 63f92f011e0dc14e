"""Sections other packages add to a project's page, without the register knowing them.

A package above the register (objections: the extractions the platform made for the project)
registers a ``ProjectSection`` in its ``init_app``: ``render`` gives the section's HTML for a
project, ``versions`` the page-cache versions it is built from (source name → value, read
before the page is built, each name a source the package added to the page cache), so the
page's validators and its kept copy follow the section too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app
from markupsafe import Markup

from registry.models import Project

EXTENSION = "registry_project_sections"


@dataclass(frozen=True)
class ProjectSection:
    render: Callable[[Project], Markup]
    versions: Callable[[], Mapping[str, object]]


def add_project_section(app: Flask, section: ProjectSection) -> None:
    app.extensions.setdefault(EXTENSION, []).append(section)


def project_sections() -> list[ProjectSection]:
    return list(current_app.extensions.get(EXTENSION, []))


def versions() -> dict[str, object]:
    """Every section's versions, for the project page's validators."""
    found: dict[str, object] = {}
    for section in project_sections():
        found.update(section.versions())
    return found


def rendered(project: Project) -> list[Markup]:
    return [section.render(project) for section in project_sections()]
