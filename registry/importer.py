"""Import projects from CSV or JSON (schema: docs/register-import.md).

Every row is validated; errors are reported by line and field, in French, without stopping at
the first one. The import is all-or-nothing: if one row is wrong, nothing is written, so a file
is never half imported. Rows are upserted by reference through ``service.save_project``: a
revision is written only when something changed, so importing the same file twice changes
nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from registry import service

# CSV column → service field, with its kind
COLUMNS: dict[str, tuple[str, str]] = {
    "reference": ("reference", "text"),
    "titre": ("title", "text"),
    "resume": ("summary", "text"),
    "objectif": ("objective", "text"),
    "interet_public": ("public_interest", "text"),
    "promoteur": ("sponsor", "text"),
    "promoteur_type": ("sponsor_kind", "text"),
    "promoteur_ville": ("sponsor_city", "text"),
    "responsable_traitement": ("controller", "text"),
    "financeurs": ("funders", "list"),
    "sources": ("sources", "list"),
    "population": ("population", "text"),
    "periode_debut": ("period_start_year", "int"),
    "periode_fin": ("period_end_year", "int"),
    "intelligence_artificielle": ("uses_ai", "bool"),
    "appariement": ("data_linkage", "bool"),
    "base_legale": ("legal_basis", "text"),
    "but_commercial": ("commercial", "bool"),
    "lieu_traitement": ("processing_location", "text"),
    "lieu_traitement_precision": ("processing_location_detail", "text"),
    "oppositions_appliquees": ("objections_applied", "bool"),
    "raison_exception": ("objection_exception_reason", "text"),
    "themes": ("themes", "list"),
    "statut": ("status", "text"),
    "decision_cnil": ("cnil_decision", "text"),
    "date_autorisation": ("authorised_on", "date"),
    "fin_prevue": ("planned_end", "date"),
    "fin_traitement": ("processing_ended_on", "date"),
    "date_limite_opposition": ("objection_deadline", "date"),
}
REQUIRED = ("reference", "titre", "resume", "objectif", "interet_public", "promoteur",
            "promoteur_type", "sources", "statut")
FIELD_TO_COLUMN = {target: column for column, (target, _) in COLUMNS.items()}
TRUE = {"oui", "o", "true", "vrai", "1", "yes"}
FALSE = {"non", "n", "false", "faux", "0", "no", ""}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _error(line: int, column: str, message: str) -> str:
    return f"ligne {line}, champ « {column} » : {message}"


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs from a CSV (``,`` or ``;``, UTF-8 with or without BOM) or JSON
    file. Raises ValueError with a French message when the file itself cannot be read."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("le fichier n'est pas en UTF-8") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"JSON invalide (ligne {exc.lineno}) : {exc.msg}") from None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError("le JSON doit être une liste d'objets")
        return [(index + 1, row) for index, row in enumerate(data)]
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise ValueError("le fichier est vide")
    unknown = [c for c in reader.fieldnames if c and c.strip() not in COLUMNS]
    if unknown:
        raise ValueError(f"colonne(s) inconnue(s) : {', '.join(unknown)}")
    return [(reader.line_num, {k.strip(): v for k, v in row.items() if k}) for row in reader]


def parse_row(line: int, row: dict[str, Any], errors: list[str]) -> dict[str, Any] | None:
    """Turn one row into ``save_project`` input; append every problem to ``errors``."""
    data: dict[str, Any] = {}
    before = len(errors)
    for column in REQUIRED:
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            errors.append(_error(line, column, "champ obligatoire manquant"))
    for column, value in row.items():
        if column not in COLUMNS:
            errors.append(_error(line, column, "colonne inconnue"))
            continue
        target, kind = COLUMNS[column]
        if value is None:
            continue
        if kind == "list":
            items = value if isinstance(value, list) else str(value).split("|")
            data[target] = [str(i).strip() for i in items if str(i).strip()]
        elif kind == "bool":
            if isinstance(value, bool):
                data[target] = value
            elif str(value).strip().lower() in TRUE:
                data[target] = True
            elif str(value).strip().lower() in FALSE:
                data[target] = False
            else:
                errors.append(_error(line, column, f"« {value} » n'est pas oui ou non"))
        elif kind == "int":
            text = str(value).strip()
            if text:
                try:
                    data[target] = int(text)
                except ValueError:
                    errors.append(_error(line, column, f"« {value} » n'est pas une année"))
        elif kind == "date":
            text = str(value).strip()
            if text:
                try:
                    service.parse_date(text, target)
                    data[target] = text
                except service.RegistryError:
                    errors.append(_error(line, column, "date invalide (attendu AAAA-MM-JJ)"))
        else:
            data[target] = str(value).strip()
    data.setdefault("objections_applied", True)
    return data if len(errors) == before else None


def import_file(session: Session, path: Path, *, by: str, dry_run: bool = False,
                progress_factory: Callable[[int], Any] | None = None) -> ImportReport:
    """Validate and import ``path``; the caller commits (or rolls back on errors/dry run)."""
    report = ImportReport()
    try:
        rows = read_rows(path)
    except ValueError as exc:
        report.errors.append(f"fichier : {exc}")
        return report
    report.rows = len(rows)
    service.sync_data_sources(session)
    parsed: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        data = parse_row(line, row, report.errors)
        if data is None:
            continue
        reference = str(data.get("reference", "")).upper()
        if reference in seen:
            report.errors.append(_error(line, "reference",
                                        f"référence déjà présente ligne {seen[reference]}"))
            continue
        seen[reference] = line
        parsed.append((line, data))
    bar = progress_factory(len(parsed)) if progress_factory and len(parsed) > 50 else None
    with bar if bar is not None else contextlib.nullcontext():
        for line, data in parsed:
            existed = service.get_project(session, data.get("reference", "")) is not None
            try:
                with session.begin_nested():
                    _, changed = service.save_project(session, data, by=by)
            except service.RegistryError as exc:
                column = FIELD_TO_COLUMN.get(exc.field, exc.field)
                report.errors.append(_error(line, column, exc.message))
                continue
            if not existed:
                report.created += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
            if bar is not None:
                bar.update(1)
    del dry_run  # the caller decides: commit, or roll back for a dry run
    return report
