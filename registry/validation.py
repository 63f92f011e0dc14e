"""The register's checks of single values: each field's shape and size, links and DOIs, and the
errors that name the field at fault. ``registry.preparation`` runs them over a whole project,
collecting every problem rather than stopping at the first.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from registry.codes import ProjectStatus, ResultKind
from registry.models import Organisation, Result, StatusEvent

# Plausible bounds: years of data studied, and dates on the authorisation path. They keep junk
# (year 0, 10^20) out of integer columns and out of date arithmetic (results due 18 months on).
YEAR_MIN, YEAR_MAX = 1900, 2100
DATE_MIN, DATE_MAX = date(1990, 1, 1), date(2100, 12, 31)

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
# Control characters (PostgreSQL refuses NUL) and lone surrogates (not encodable in UTF-8).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


_DOI = re.compile(r"^10\.[0-9]+(?:\.[0-9]+)*/\S+$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                 "http://dx.doi.org/", "doi:")


def web_address(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) address with a host and no spaces, else None.
    The only addresses the register stores and links to (no ``javascript:``, ``data:`` …)."""
    if not value or re.search(r"\s", value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def doi_name(value: str | None) -> str | None:
    """The DOI in ``value`` (``10.1234/abc``, also written ``doi:…`` or as a doi.org link),
    or None when it is not one."""
    if not value:
        return None
    text = value.strip()
    for prefix in _DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
            break
    return text if _DOI.match(text) else None


class RegistryError(ValueError):
    """Data that cannot enter the register; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidProject(RegistryError):
    """Every problem found in a project's data (``errors``); ``field`` is the first one's."""

    def __init__(self, errors: list[RegistryError]):
        super().__init__(errors[0].field, errors[0].message)
        self.errors = errors


def column_size(model: type, name: str) -> int | None:
    """The length of a String column: the data's limits come from the schema itself."""
    return getattr(model.__table__.c[name].type, "length", None)


def normalise_name(name: str) -> str:
    """An organisation's name with its spaces tidied (so one organisation is one row)."""
    return " ".join(name.split())


def _shown(value: Any) -> str:
    """A short, printable version of a bad value for an error message."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return "?"
    try:
        text = str(value)
    except ValueError:
        return "?"
    text = _FORBIDDEN.sub("?", text)
    return text if len(text) <= 40 else text[:39] + "…"


class Checks:
    """Cleans values one by one, collecting every problem instead of raising the first."""

    def __init__(self) -> None:
        self.errors: list[RegistryError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(RegistryError(field, message))

    def failed(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def text(self, value: Any, field: str, *, required: bool = False, size: int | None = None,
             what: str = "") -> str:
        if value is None:
            value = ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(field, f"{what}texte attendu")
            return ""
        try:
            value = str(value).strip()
        except ValueError:  # an integer too long to print
            self.fail(field, f"{what}valeur invalide")
            return ""
        if _FORBIDDEN.search(value):
            self.fail(field, f"{what}caractère de contrôle interdit")
            return ""
        if required and not value:
            self.fail(field, f"{what}champ obligatoire")
        elif size and len(value) > size:
            self.fail(field, f"{what}trop long : {len(value)} caractères (au plus {size})")
            return ""
        return value

    def name(self, value: Any, field: str, *, required: bool = False, what: str = "") -> str:
        return normalise_name(self.text(value, field, required=required, what=what,
                                        size=column_size(Organisation, "name")))

    def items(self, value: Any, field: str) -> list[Any]:
        if value is None or value == "":
            return []
        if not isinstance(value, list | tuple):
            self.fail(field, "liste attendue")
            return []
        return list(value)

    def texts(self, value: Any, field: str) -> list[str]:
        cleaned = []
        for item in self.items(value, field):
            if isinstance(item, bool) or not isinstance(item, str | int):
                self.fail(field, f"valeur « {_shown(item)} » invalide")
                continue
            text = self.text(item, field)
            if text:
                cleaned.append(text)
        return cleaned

    def boolean(self, value: Any, field: str, default: bool) -> bool:
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        self.fail(field, "oui ou non attendu")
        return default

    def choice(self, kind: type, value: Any, field: str, default: str | None = None,
               what: str = ""):
        if value is None or value == "":
            if default is None:
                return None
            value = default
        try:
            return kind(value)
        except (ValueError, TypeError):
            allowed = ", ".join(m.value for m in kind)
            shown = _shown(value)
            self.fail(field, f"{what}valeur « {shown} » inconnue (valeurs possibles : {allowed})")
            return None

    def year(self, value: Any, field: str) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            year = value
        else:
            text = value.strip() if isinstance(value, str) else ""
            if not _INTEGER.match(text):
                self.fail(field, "année invalide (attendu AAAA, par exemple 2015)")
                return None
            year = int(text) if len(text) <= 6 else YEAR_MAX + 1
        if not YEAR_MIN <= year <= YEAR_MAX:
            self.fail(field, f"année hors limites (entre {YEAR_MIN} et {YEAR_MAX})")
            return None
        return year

    def day(self, value: Any, field: str, *, required: bool = False, what: str = ""
            ) -> date | None:
        if value is None or value == "":
            if required:
                self.fail(field, f"{what}date obligatoire")
            return None
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            text = value.strip() if isinstance(value, str) else ""
            try:
                value = date.fromisoformat(text) if _ISO_DATE.match(text) else None
            except ValueError:
                value = None
            if value is None:
                self.fail(field, f"{what}date invalide (attendu AAAA-MM-JJ)")
                return None
        if not DATE_MIN <= value <= DATE_MAX:
            self.fail(field, f"{what}date hors limites (entre {DATE_MIN.isoformat()} et "
                             f"{DATE_MAX.isoformat()})")
            return None
        return value

    def events(self, value: Any, current: list[tuple] | None = None,
               cnil_decision: str = "") -> list[tuple[ProjectStatus, date, str, str]]:
        """Dated steps. A step that leaves out its decision number or note keeps those of the
        current step with the same status and date (the CSV export has neither); an
        authorisation step without a number takes the project's CNIL decision."""
        known = {(e[0], e[1]): e for e in current or []}
        events = []
        for number, item in enumerate(self.items(value, "status_events"), start=1):
            what = f"étape {number} : "
            if not isinstance(item, dict):
                self.fail("status_events", f"{what}objet attendu")
                continue
            status = self.choice(ProjectStatus, item.get("status"), "status_events",
                                 what=what)
            if item.get("status") in (None, ""):
                self.fail("status_events", f"{what}statut obligatoire")
            day = self.day(item.get("date"), "status_events", required=True, what=what)
            decision = self.text(item.get("decision_number"), "status_events", what=what,
                                 size=column_size(StatusEvent, "decision_number"))
            note = self.text(item.get("note"), "status_events", what=what)
            same = known.get((status, day))
            if item.get("decision_number") is None:
                decision = same[2] if same else (
                    cnil_decision if status == ProjectStatus.CNIL_AUTHORISED else "")
            if item.get("note") is None and same:
                note = same[3]
            if status is not None and day is not None:
                events.append((status, day, decision, note))
        return events

    def address(self, value: Any, what: str) -> str:
        """A result's link: empty, or an http(s) address (``web_address``)."""
        text = self.text(value, "results", what=what, size=column_size(Result, "url"))
        if text and web_address(text) is None:
            self.fail("results", f"{what}adresse « {_shown(text)} » invalide : une adresse "
                                 "web commençant par http:// ou https:// est attendue")
            return ""
        return text

    def doi(self, value: Any, what: str) -> str:
        """A result's DOI: empty, or a DOI (``10.1234/abc``; ``doi:`` and doi.org links are
        accepted and stored as the bare DOI)."""
        text = self.text(value, "results", what=what, size=column_size(Result, "doi"))
        if not text:
            return ""
        name = doi_name(text)
        if name is None:
            self.fail("results", f"{what}DOI « {_shown(text)} » invalide (attendu "
                                 "10.NNNN/…, par exemple 10.1234/abc)")
            return ""
        return name

    def results(self, value: Any) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for number, item in enumerate(self.items(value, "results"), start=1):
            what = f"résultat {number} : "
            if not isinstance(item, dict):
                self.fail("results", f"{what}objet attendu")
                continue
            title = self.text(item.get("title"), "results", required=True, what=what,
                              size=column_size(Result, "title"))
            result = {
                "title": title,
                "kind": self.choice(ResultKind, item.get("kind"), "results", "article", what),
                "published_on": self.day(item.get("published_on"), "results", required=True,
                                         what=what),
                "url": self.address(item.get("url"), what),
                "doi": self.doi(item.get("doi"), what),
                "summary": self.text(item.get("summary"), "results", what=what),
            }
            if title and any(r["title"] == title for r in results):
                self.fail("results", f"{what}titre « {title[:60]} » en double")
            elif None not in result.values() and title:
                results.append(result)
        return results
