"""Import projects from CSV or JSON (schema: docs/register-import.md).

Two passes. First every row is read and checked completely — the file's own format (columns,
yes/no values, lists), then every rule of the register through ``validation.prepare_project`` —
without writing anything, and every problem is reported with its place (CSV line where the
record starts, or JSON object number) and column, in French. If anything is wrong, or for a dry
run, nothing is written. Otherwise every row, as prepared by the check, is written through
``service.write_project`` in the caller's transaction (one validation per row), which the caller
commits once: a file is never half imported. Rows are
upserted by reference and a revision is written only when something changed, so importing the
same file twice changes nothing.

No savepoints: with pysqlite's default transaction handling (kept on purpose, so concurrent
writers wait on ``busy_timeout``) a SAVEPOINT opened before any write becomes the transaction
itself, and releasing it commits.

Files exported by the site itself import as they are: ``/projets.csv`` (its computed columns are
ignored, and the apostrophe it puts before a cell a spreadsheet would take for a formula is
removed, ``opendata.tables.csv_value``) and ``/projets.json`` (its English keys are mapped, see
``EXPORT_KEYS``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from registry import service
from registry.fields import COMPUTED_COLUMNS, COMPUTED_JSON_KEYS, IMPORT_COLUMNS
from registry.opendata.tables import csv_value
from registry.preparation import PreparedProject, prepare_project
from registry.validation import normalise_name

# column → (field, how its value is read): every column of ``registry.fields`` but the
# computed ones.
COLUMNS: dict[str, tuple[str, str]] = {column: (field.name, field.read_as)
                                       for column, field in IMPORT_COLUMNS.items()}
REQUIRED = ("reference", "titre", "resume", "objectif", "interet_public", "promoteur",
            "promoteur_type", "sources", "statut")
# Computed by the CSV export (/projets.csv), ignored on import. (Its ``resultats`` column, the
# results' links, is ignored too: results are imported from JSON.)
IGNORED_COLUMNS = COMPUTED_COLUMNS
FIELD_TO_COLUMN = {target: column for column, (target, _) in COLUMNS.items()}
STEP_KEYS = {"statut": "status", "date": "date", "numero_decision": "decision_number",
             "note": "note"}
RESULT_KEYS = {"type": "kind", "titre": "title", "date": "published_on", "url": "url",
               "doi": "doi", "resume": "summary"}
TRUE = {"oui", "o", "true", "vrai", "1", "yes"}
FALSE = {"non", "n", "false", "faux", "0", "no"}

# The JSON export (/projets.json, /api/v1/projects/<ref>): English key → column, for the keys
# that hold a field's value as it is (organisations, funders, the period, steps and results
# are nested: see ``from_export_shape``).
_NESTED = ("sponsor", "controller", "funders", "status_events", "results")
EXPORT_KEYS = {field.json: column for column, field in IMPORT_COLUMNS.items()
               if field.json and "." not in field.json and field.name not in _NESTED}
# Computed or kept by the register itself: ignored on import.
EXPORT_IGNORED = COMPUTED_JSON_KEYS
_EXPORT_ORGANISATIONS = {"sponsor": ("promoteur", "promoteur_type", "promoteur_ville"),
                         "controller": ("responsable_traitement",
                                        "responsable_traitement_type",
                                        "responsable_traitement_ville")}
_EXPORT_STEP_KEYS = {"status": "statut", "date": "date", "decision_number": "numero_decision",
                     "note": "note"}
_EXPORT_RESULT_KEYS = {"kind": "type", "title": "titre", "published_on": "date", "url": "url",
                       "doi": "doi", "summary": "resume"}


@dataclass
class Row:
    """One record of the file: where it is (``ligne 7``, ``objet 3``) and its values."""

    location: str
    values: dict[str, Any]
    problems: list[tuple[str | None, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    organisation_changes: list[str] = field(default_factory=list)
    written: bool = False


def _error(location: str, column: str | None, message: str) -> str:
    if column is None:
        return f"{location} : {message}"
    return f"{location}, champ « {column} » : {message}"


# --------------------------------------------------------------------------- reading

def read_rows(path: Path) -> list[Row]:
    """The records of a CSV (``,`` or ``;``, UTF-8 with or without BOM) or JSON file.
    Raises ValueError with a French message when the file itself cannot be read."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("le fichier n'est pas en UTF-8") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return _json_rows(text)
    return _csv_rows(text)


def _json_rows(text: str) -> list[Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON invalide (ligne {exc.lineno}) : {exc.msg}") from None
    except (ValueError, RecursionError):
        raise ValueError("JSON invalide") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError("le JSON doit être une liste d'objets (ou {\"data\": [...]})")
    rows = []
    for number, item in enumerate(data, start=1):
        location = f"objet {number}"
        if not isinstance(item, dict):
            rows.append(Row(location, {}, [(None, "objet JSON attendu")]))
        elif _is_export_shape(item):
            values, problems = from_export_shape(item)
            rows.append(Row(location, values, problems))
        else:
            rows.append(Row(location, item))
    return rows


def _csv_rows(text: str) -> list[Row]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        header = next(reader, None)
        columns = [c.strip() for c in header or []]
        if not any(columns):
            raise ValueError("le fichier est vide")
        unknown = [c for c in columns if c and c not in COLUMNS and c not in IGNORED_COLUMNS]
        if unknown:
            raise ValueError(f"colonne(s) inconnue(s) : {', '.join(unknown)}")
        duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
        if duplicated:
            raise ValueError(f"colonne(s) en double : {', '.join(duplicated)}")
        previous = reader.line_num
        for cells in reader:
            start, previous = previous + 1, reader.line_num  # a record may span lines
            if not any(cell.strip() for cell in cells):
                continue
            row = Row(f"ligne {start}", {c: csv_value(v) for c, v
                                         in zip(columns, cells, strict=False) if c})
            if len(cells) != len(columns):
                row.problems.append((None, f"{len(cells)} valeur(s) pour {len(columns)} "
                                           "colonne(s)"))
            rows.append(row)
    except csv.Error as exc:
        raise ValueError(f"CSV illisible (ligne {reader.line_num}) : {exc}") from None
    return rows


def _is_export_shape(item: dict) -> bool:
    return "titre" not in item and any(k in item for k in ("title", "sponsor", "period",
                                                           "status_history"))


def from_export_shape(item: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """An object of ``/projets.json`` (English keys, nested objects) as an import row."""
    row: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, value in item.items():
        if key in EXPORT_IGNORED:
            continue
        if key in EXPORT_KEYS:
            row[EXPORT_KEYS[key]] = "" if value is None else value
        elif key in _EXPORT_ORGANISATIONS:
            name, kind, city = _EXPORT_ORGANISATIONS[key]
            if value is None:
                row[name] = ""
            elif isinstance(value, dict):
                row[name] = value.get("name")
                row[kind], row[city] = value.get("kind") or "", value.get("city") or ""
            else:
                problems.append((name, "objet attendu (name, kind, city)"))
        elif key == "funders":
            if isinstance(value, list) and all(isinstance(f, dict) for f in value):
                row["financeurs"] = [f.get("name") for f in value]
                row["financeurs_types"] = [f.get("kind") or "" for f in value]
                row["financeurs_villes"] = [f.get("city") or "" for f in value]
            else:
                problems.append(("financeurs", "liste d'objets attendue (name, kind, city)"))
        elif key == "period":
            if isinstance(value, dict):
                row["periode_debut"] = value.get("start_year")
                row["periode_fin"] = value.get("end_year")
            elif value is not None:
                problems.append(("periode_debut", "objet attendu (start_year, end_year)"))
        elif key in ("status_history", "results"):
            column, keys = (("etapes", _EXPORT_STEP_KEYS) if key == "status_history"
                            else ("resultats", _EXPORT_RESULT_KEYS))
            if isinstance(value, list):
                row[column] = [{keys.get(k, k): v for k, v in entry.items()}
                               if isinstance(entry, dict) else entry for entry in value]
            else:
                problems.append((column, "liste attendue"))
        else:
            problems.append((key, "clé inconnue"))
    return row, problems


# --------------------------------------------------------------------------- one row

def parse_row(values: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str | None, str]]]:
    """One row as ``save_project`` input, with the row's own problems (column, message).
    A value that cannot be read is left out, so the register's checks still run on the rest."""
    data: dict[str, Any] = {}
    problems: list[tuple[str | None, str]] = []
    for column in REQUIRED:
        value = values.get(column)
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            problems.append((column, "champ obligatoire manquant"))
    for column, value in values.items():
        if column in IGNORED_COLUMNS:
            continue
        if column not in COLUMNS:
            problems.append((column, "colonne inconnue"))
            continue
        target, kind = COLUMNS[column]
        if kind == "results" and isinstance(value, str):
            continue  # the CSV export's links to the results: results come from JSON
        try:
            converted = _convert(kind, value)
        except ValueError as exc:
            problems.append((column, str(exc)))
            continue
        if converted is not None or kind != "steps":
            data[target] = converted
    return data, problems


def _convert(kind: str, value: Any) -> Any:
    if kind in ("list", "aligned"):
        if isinstance(value, str):
            if not value.strip():
                return []
            items = [item.strip() for item in value.split("|")]
            return items if kind == "aligned" else [i for i in items if i]
        return [] if value is None else value
    if kind == "bool":
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text == "":
            return None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError("oui ou non attendu")
    if kind == "steps" and isinstance(value, str):
        return _csv_steps(value)
    if kind in ("steps", "results"):
        keys = STEP_KEYS if kind == "steps" else RESULT_KEYS
        if not isinstance(value, list):
            return value  # the register's checks say what is wrong
        converted = []
        for number, item in enumerate(value, start=1):
            if isinstance(item, dict):
                unknown = [str(k) for k in item if k not in keys]
                if unknown:
                    raise ValueError(f"élément {number} : clé(s) inconnue(s) : "
                                     f"{', '.join(unknown)[:80]}")
                item = {keys[k]: v for k, v in item.items()}
            converted.append(item)
        return converted
    if isinstance(value, str):
        return value.strip()
    return value


def _csv_steps(value: str) -> list[dict[str, str]] | None:
    """The CSV form of the steps, as the export writes it: ``AAAA-MM-JJ statut|…``."""
    if not value.strip():
        return None  # an empty cell leaves the steps as they are
    steps = []
    for number, item in enumerate(value.split("|"), start=1):
        parts = item.split()
        if len(parts) != 2:
            raise ValueError(f"étape {number} : attendu « AAAA-MM-JJ statut »")
        steps.append({"date": parts[0], "status": parts[1]})
    return steps


# --------------------------------------------------------------------------- the file

class _OrganisationFacts:
    """Kinds and cities a file gives explicitly, so two rows cannot disagree about one
    organisation (the last one would silently win)."""

    SLOTS = (("promoteur", "promoteur_type", "promoteur_ville", False),
             ("responsable_traitement", "responsable_traitement_type",
              "responsable_traitement_ville", False),
             ("financeurs", "financeurs_types", "financeurs_villes", True))

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[str, str]] = {}

    def check(self, row: Row) -> list[tuple[str | None, str]]:
        problems: list[tuple[str | None, str]] = []
        for name_column, kind_column, city_column, many in self.SLOTS:
            names = _as_list(row.values.get(name_column), many)
            for column, what in ((kind_column, "type"), (city_column, "ville")):
                given = _as_list(row.values.get(column), many)
                for name, value in zip(names, given, strict=False):
                    if not (isinstance(name, str) and isinstance(value, str)):
                        continue
                    name, value = normalise_name(name), value.strip()
                    if not name or not value:
                        continue
                    first = self.seen.setdefault((name, what), (value, row.location))
                    if first[0] != value:
                        problems.append((column, f"« {name[:60]} » a le {what} "
                                                 f"« {first[0][:40]} » ({first[1]})"))
        return problems


def _as_list(value: Any, many: bool) -> list[Any]:
    if not many:
        return [value]
    if isinstance(value, str):
        return [v.strip() for v in value.split("|")]
    return value if isinstance(value, list) else []


@contextlib.contextmanager
def _progress(factory: Callable[[int, str], Any] | None, length: int,
              label: str) -> Iterator[Callable[[], None]]:
    if factory is None or length <= 50:
        yield lambda: None
        return
    with factory(length, label) as bar:
        yield lambda: bar.update(1)


def import_file(session: Session, path: Path, *, by: str, dry_run: bool = False,
                today: date | None = None,
                progress_factory: Callable[[int, str], Any] | None = None) -> ImportReport:
    """Check and import ``path``. Nothing is written if any row is wrong or for a dry run;
    otherwise every row is saved in the session's transaction and the caller commits once."""
    try:
        rows = read_rows(path)
    except ValueError as exc:
        report = ImportReport()
        report.errors.append(f"fichier : {exc}")
        return report
    return import_rows(session, rows, by=by, dry_run=dry_run, today=today,
                       progress_factory=progress_factory)


def import_rows(session: Session, rows: list[Row], *, by: str, dry_run: bool = False,
                today: date | None = None,
                progress_factory: Callable[[int, str], Any] | None = None) -> ImportReport:
    """``import_file`` for rows already read."""
    report = ImportReport(rows=len(rows))
    checked: list[PreparedProject] = []
    references: dict[str, str] = {}
    facts = _OrganisationFacts()
    changes: set[str] = set()
    with _progress(progress_factory, len(rows), "Vérification") as step:
        for row in rows:
            data, problems = parse_row(row.values)
            problems = [*row.problems, *problems, *facts.check(row)]
            reference = data.get("reference")
            if isinstance(reference, str) and reference.strip():
                key = reference.strip().upper()
                if key in references:
                    problems.append(("reference", f"référence déjà présente ({references[key]})"))
                references.setdefault(key, row.location)
            prepared = prepare_project(session, data, today=today)
            reported = {column for column, _ in problems}
            for error in prepared.errors:
                column = FIELD_TO_COLUMN.get(error.field, error.field)
                if column not in reported:
                    problems.append((column, error.message))
            if problems:
                report.errors.extend(_error(row.location, c, m) for c, m in problems)
            else:
                checked.append(prepared)
                if prepared.creating:
                    report.created += 1
                elif prepared.changed:
                    report.updated += 1
                else:
                    report.unchanged += 1
                changes.update(prepared.organisation_changes)
            step()
    report.organisation_changes = sorted(changes)
    if report.errors or dry_run:
        return report
    with _progress(progress_factory, len(checked), "Import") as step:
        for prepared in checked:  # checked once: written as prepared
            service.write_project(session, prepared, by=by)
            step()
    report.written = True
    return report
