"""The CSV export of the register (``/projets.csv``): one row per project, one column per
field (``registry.fields`` names the columns), cells a spreadsheet cannot take for formulas.
The importer reads the same file back (``csv_value``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from registry.fields import column
from registry.models import Project, Result
from registry.rules import ResultsStatus, results_status
from registry.validation import doi_name, web_address

# The export's columns, by field name, in order.
LAYOUT = (
    "reference", "title", "summary", "objective", "public_interest", "sponsor", "sponsor_kind",
    "sponsor_city", "controller", "funders", "sources", "population", "period_start_year",
    "period_end_year", "uses_ai", "data_linkage", "legal_basis", "commercial",
    "processing_location", "objections_applied", "objection_exception_reason",
    "processing_location_detail", "themes", "status", "status_events", "cnil_decision",
    "authorised_on", "planned_end", "processing_ended_on", "objection_deadline",
    "results_count", "results", "results_due_on", "results_overdue", "results_overdue_months",
    "url", "updated_at", "licence",
)
COLUMNS = [column(name) for name in LAYOUT]


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def result_link(result: Result) -> str:
    """A result as one CSV cell item: its DOI link, else its URL, else its title. Only what
    the register accepts as a link (``validation.doi_name``, ``web_address``) is given as one,
    whatever an older row holds, as on the project page."""
    doi = doi_name(result.doi)
    if doi:
        return f"https://doi.org/{doi}"
    return web_address(result.url) or result.title


# field → its cell, from the project, its results' state, the site's URL and the licence id
Cell = Callable[[Project, ResultsStatus, str, str], Any]
CELLS: dict[str, Cell] = {
    "reference": lambda p, s, site, lic: p.reference,
    "title": lambda p, s, site, lic: p.title,
    "summary": lambda p, s, site, lic: p.summary,
    "objective": lambda p, s, site, lic: p.objective,
    "public_interest": lambda p, s, site, lic: p.public_interest,
    "sponsor": lambda p, s, site, lic: p.sponsor.name,
    "sponsor_kind": lambda p, s, site, lic: str(p.sponsor.kind),
    "sponsor_city": lambda p, s, site, lic: p.sponsor.city,
    "controller": lambda p, s, site, lic: p.controller.name if p.controller else "",
    "funders": lambda p, s, site, lic: "|".join(f.name for f in p.funders),
    "sources": lambda p, s, site, lic: "|".join(src.code for src in p.sources),
    "population": lambda p, s, site, lic: p.population,
    "period_start_year": lambda p, s, site, lic: p.period_start_year or "",
    "period_end_year": lambda p, s, site, lic: p.period_end_year or "",
    "uses_ai": lambda p, s, site, lic: _yes_no(p.uses_ai),
    "data_linkage": lambda p, s, site, lic: _yes_no(p.data_linkage),
    "legal_basis": lambda p, s, site, lic: str(p.legal_basis),
    "commercial": lambda p, s, site, lic: _yes_no(p.commercial),
    "processing_location": lambda p, s, site, lic: str(p.processing_location),
    "objections_applied": lambda p, s, site, lic: _yes_no(p.objections_applied),
    "objection_exception_reason": lambda p, s, site, lic: p.objection_exception_reason,
    "processing_location_detail": lambda p, s, site, lic: p.processing_location_detail,
    "themes": lambda p, s, site, lic: "|".join(p.themes or []),
    "status": lambda p, s, site, lic: str(p.status),
    "status_events": lambda p, s, site, lic: "|".join(
        f"{e.happened_on.isoformat()} {e.status}" for e in p.status_events),
    "cnil_decision": lambda p, s, site, lic: p.cnil_decision,
    "authorised_on": lambda p, s, site, lic: _day(p.authorised_on),
    "planned_end": lambda p, s, site, lic: _day(p.planned_end),
    "processing_ended_on": lambda p, s, site, lic: _day(p.processing_ended_on),
    "objection_deadline": lambda p, s, site, lic: _day(p.objection_deadline),
    "results_count": lambda p, s, site, lic: len(p.results),
    "results": lambda p, s, site, lic: "|".join(result_link(r) for r in p.results),
    "results_due_on": lambda p, s, site, lic: _day(s.due_on),
    "results_overdue": lambda p, s, site, lic: _yes_no(s.overdue),
    "results_overdue_months": lambda p, s, site, lic: s.overdue_months,
    "url": lambda p, s, site, lic: f"{site}/projets/{p.reference}",
    "updated_at": lambda p, s, site, lic: p.updated_at.isoformat(),
    "licence": lambda p, s, site, lic: lic,
}


def csv_rows(projects: Iterable[Project], *, site_url: str, licence_id: str,
             today: date) -> Iterator[list[Any]]:
    """The header, then one row per project."""
    yield COLUMNS
    for project in projects:
        state = results_status(project, today)
        yield [csv_cell(CELLS[name](project, state, site_url, licence_id)) for name in LAYOUT]


def csv_document(projects: Iterable[Project], *, site_url: str, licence_id: str,
                 today: date, rows_per_chunk: int = 200) -> Iterator[str]:
    """The export as chunks of text (streamed: memory stays bounded whatever the register's
    size): UTF-8 with a BOM (so Excel reads it), ``;``-separated, CRLF."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for number, row in enumerate(csv_rows(projects, site_url=site_url, licence_id=licence_id,
                                          today=today)):
        writer.writerow(row)
        if number % rows_per_chunk == rows_per_chunk - 1:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


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
