"""The objection form: fields, and the checks that give each field its own French message."""

from __future__ import annotations

from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, MultiDict

from objection.identity import MESSAGES, NirError, check_identity, parse_nir
from objection.models import Filer, Scope
from objection.service import FilingInput

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_SIGNATURES = {  # the first bytes of each accepted file type
    "application/pdf": [b"%PDF-"],
    "image/jpeg": [b"\xff\xd8\xff"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
}
FIELDS = ("filer", "representative_name", "scope", "project_reference", "nir", "birth_name",
          "first_names", "birth_day", "birth_month", "birth_year", "sex", "email", "consent")
FIELD_ORDER = ("filer", "representative_name", "document", "scope", "project_reference", "nir",
               "birth_name", "first_names", "birth_date", "sex", "email", "consent")
ERRORS = {
    "filer": _l("Indiquez pour qui vous faites la demande."),
    "representative_name": _l("Saisissez votre nom et votre prénom."),
    "document_missing": _l("Joignez un document qui montre que vous pouvez agir pour cette "
                           "personne."),
    "document_type": _l("Le document doit être un fichier PDF, JPEG ou PNG."),
    "document_size": _l("Le document doit faire 5 Mo au plus."),
    "scope": _l("Indiquez si vous vous opposez à toute la recherche ou à un seul projet."),
    "project_reference": _l("Saisissez la référence du projet, par exemple HDH-2024-0123."),
    "project_unknown": _l("Aucun projet ne porte cette référence. Vérifiez-la dans le "
                          "registre."),
    "project_closed": _l("Ce projet n'accepte plus d'oppositions. Vous pouvez faire une "
                         "opposition générale."),
    "birth_name": _l("Saisissez le nom de naissance."),
    "first_names": _l("Saisissez le ou les prénoms."),
    "birth_date": _l("Saisissez une date de naissance complète et réelle, par exemple 27 3 "
                     "1985."),
    "sex": _l("Indiquez le sexe inscrit à l'état civil."),
    "email": _l("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
    "consent": _l("Cochez la case pour confirmer que les informations sont exactes."),
    "too_long": _l("Ce champ est trop long."),
}


def sniff_document(content: bytes) -> str | None:
    """The file's real type from its first bytes (never from its name or the browser)."""
    for mime, signatures in DOCUMENT_SIGNATURES.items():
        if any(content.startswith(signature) for signature in signatures):
            return mime
    return None


class ObjectionForm:
    """Parses and checks the submitted values; ``errors`` maps a field to its message."""

    def __init__(self, form: MultiDict, files: MultiDict | None = None,
                 project_lookup=None, today: date | None = None):
        self.values = {name: (form.get(name) or "").strip()[:300] for name in FIELDS}
        self.too_long = {name for name in FIELDS if len(form.get(name) or "") > 300}
        self.file: FileStorage | None = (files or {}).get("document") if files else None
        self.project_lookup = project_lookup
        self.today = today or date.today()
        self.errors: dict[str, str] = {}
        self.document: bytes | None = None
        self.document_type = ""
        self.project = None

    def _error(self, field: str, key: str | None = None, message: str | None = None) -> None:
        if field not in self.errors:
            self.errors[field] = message or str(ERRORS[key or field])

    def birth_date(self) -> date | None:
        try:
            return date(int(self.values["birth_year"]), int(self.values["birth_month"]),
                        int(self.values["birth_day"]))
        except ValueError:
            return None

    def validate(self, pending_document: bytes | None = None) -> bool:
        v = self.values
        for name in self.too_long:
            self._error(name, "too_long")
        if v["filer"] not in {f.value for f in Filer}:
            self._error("filer")
        proxy = v["filer"] in (Filer.CHILD, Filer.REPRESENTED)
        if proxy and not v["representative_name"]:
            self._error("representative_name")
        if proxy:
            self._check_document(pending_document)
        if v["scope"] not in {s.value for s in Scope}:
            self._error("scope")
        elif v["scope"] == Scope.PROJECT:
            reference = v["project_reference"].upper()
            if not reference:
                self._error("project_reference")
            elif self.project_lookup is not None:
                self.project = self.project_lookup(reference)
                if self.project is None:
                    self._error("project_reference", "project_unknown")
                elif not self.project.accepts_objections:
                    self._error("project_reference", "project_closed")
        if not v["birth_name"]:
            self._error("birth_name")
        if not v["first_names"]:
            self._error("first_names")
        birth_date = self.birth_date()
        if birth_date is None:
            self._error("birth_date")
        if v["sex"] not in ("F", "M"):
            self._error("sex")
        try:
            nir = parse_nir(v["nir"])
        except NirError as error:
            self._error("nir", message=error.message)
            nir = None
        if nir is not None and birth_date is not None:
            problems = check_identity(nir, birth_date, v["sex"], self.today)
            for code in ("future", "too_old"):
                if code in problems:
                    self._error("birth_date", message=str(MESSAGES[code]))
            for code in ("sex", "year", "month"):
                if code in problems:
                    self._error("nir", message=str(MESSAGES[code]))
        try:
            validate_email(v["email"], check_deliverability=False)
        except EmailNotValidError:
            self._error("email")
        if v["consent"] != "oui":
            self._error("consent")
        self.nir = nir
        return not self.errors

    def _check_document(self, pending: bytes | None) -> None:
        if self.file is not None and self.file.filename:
            content = self.file.stream.read(MAX_DOCUMENT_BYTES + 1)
            if len(content) > MAX_DOCUMENT_BYTES:
                self._error("document", "document_size")
                return
            kind = sniff_document(content)
            if kind is None:
                self._error("document", "document_type")
                return
            self.document, self.document_type = content, kind
        elif pending is not None:
            self.document, self.document_type = pending, sniff_document(pending) or ""
        else:
            self._error("document", "document_missing")

    def ordered_errors(self) -> list[tuple[str, str]]:
        return [(field, self.errors[field]) for field in FIELD_ORDER if field in self.errors]

    def to_input(self, lang: str) -> FilingInput:
        v = self.values
        birth_date = self.birth_date()
        assert self.nir is not None and birth_date is not None
        return FilingInput(
            filer=Filer(v["filer"]), scope=Scope(v["scope"]),
            project_reference=v["project_reference"].upper() or None,
            nir=self.nir, birth_name=v["birth_name"], first_names=v["first_names"],
            birth_date=birth_date, sex=v["sex"], email=v["email"], lang=lang,
            representative_name=v["representative_name"], document=self.document,
            document_type=self.document_type,
        )
