"""The objection form: fields, and the checks that give each field its own French message."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, MultiDict

from core.clock import local_today
from objection import document_checks
from objection.identity import MESSAGES, Nir, NirError, age_on, check_identity, parse_nir
from objection.letters import normalise_address
from objection.models import Filer, Scope
from objection.service import FilingInput

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MIN_AGE_TO_FILE_ALONE = 15  # docs/objection.md: a parent files for a child under 15
AGE_OF_MAJORITY = 18
_DAY_OR_MONTH = re.compile(r"^[0-9]{1,2}$")
_YEAR = re.compile(r"^[0-9]{4}$")
FIELDS = ("filer", "representative_name", "scope", "project_reference", "nir", "birth_name",
          "first_names", "birth_day", "birth_month", "birth_year", "sex", "email",
          "postal_address", "consent")
FIELD_ORDER = ("filer", "representative_name", "document", "scope", "project_reference", "nir",
               "birth_name", "first_names", "birth_date", "sex", "email", "postal_address",
               "consent")
ERRORS = {
    "filer": _l("Indiquez pour qui vous faites la demande."),
    "filer_too_young": _l("La personne a moins de 15 ans : un parent ou le représentant légal "
                          "fait la demande pour elle. Choisissez « Pour mon enfant mineur »."),
    "filer_adult": _l("La personne a 18 ans ou plus : elle n'est plus mineure. Elle peut faire "
                      "la demande elle-même, ou choisissez « Pour une personne que je "
                      "représente » si vous êtes son tuteur, son curateur ou son mandataire."),
    "representative_name": _l("Saisissez votre nom et votre prénom."),
    "document_missing": _l("Joignez un document qui montre que vous pouvez agir pour cette "
                           "personne."),
    "document_type": _l("Le document doit être un fichier PDF, JPEG ou PNG."),
    "document_size": _l("Le document doit faire 5 Mo au plus."),
    "scope": _l("Indiquez si vous vous opposez à toute la recherche ou à un seul projet."),
    "project_reference": _l("Saisissez la référence du projet, par exemple HDH-2024-0123."),
    "project_unknown": _l("Aucun projet ne porte cette référence. Vérifiez-la dans le "
                          "registre."),
    "project_closed": _l("Ce projet n'accepte plus d'oppositions. Une opposition générale "
                         "s'y applique encore : vos données seront retirées des extractions "
                         "faites après elle, pour ce projet comme pour les autres."),
    "project_ended": _l("Ce projet est terminé ou arrêté : il n'accepte plus d'oppositions. "
                        "Une opposition générale s'applique à tous les autres projets."),
    "project_exempt": _l("Les oppositions ne s'appliquent pas à ce projet : ni une opposition à "
                         "ce projet, ni une opposition générale. Sa page dans le registre dit "
                         "pourquoi."),
    "birth_name": _l("Saisissez le nom de naissance."),
    "first_names": _l("Saisissez le ou les prénoms."),
    "birth_date": _l("Saisissez une date de naissance complète et réelle, par exemple 27 3 "
                     "1985."),
    "sex": _l("Indiquez le sexe inscrit à l'état civil."),
    "email": _l("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
    "email_ascii": _l("La partie avant le « @ » ne doit contenir ni accent ni caractère spécial "
                      "(certains serveurs de messagerie ne les acceptent pas)."),
    "consent": _l("Cochez la case pour confirmer que les informations sont exactes."),
    "email_or_post": _l("Saisissez une adresse électronique, ou une adresse postale pour "
                        "recevoir nos réponses par courrier."),
    "postal_address": _l("Saisissez l'adresse postale complète sur 2 à 6 lignes : nom, numéro "
                         "et rue, code postal et ville."),
    "postal_address_hidden": _l("L'adresse postale contient un caractère invisible ou de mise "
                                "en forme. Effacez-la et tapez-la au clavier."),
    "too_long": _l("Ce champ est trop long."),
    "birth_name_hidden": _l("Le nom de naissance contient un caractère invisible ou de mise en "
                            "forme. Effacez-le et tapez le nom au clavier."),
    "first_names_hidden": _l("Les prénoms contiennent un caractère invisible ou de mise en "
                             "forme. Effacez-les et tapez-les au clavier."),
    "representative_name_hidden": _l("Votre nom contient un caractère invisible ou de mise en "
                                     "forme. Effacez-le et tapez-le au clavier."),
}
NAME_FIELDS = ("birth_name", "first_names", "representative_name")
MAX_ADDRESS_LINES = 6
# Characters no name is written with, which can hide or reorder what staff and mails show:
# control characters (Cc: tab, new line, escape…), format characters (Cf: the bidirectional
# overrides and isolates U+202A-202E and U+2066-2069, marks, zero-width characters), surrogates,
# private-use and unassigned code points, and the line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_hidden_characters(text: str) -> bool:
    """Whether ``text`` holds a character that is invisible or changes how text is shown."""
    return any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in text)


def closed_reason(project) -> str:
    """Why a project takes no objection, as a key of ``ERRORS``: the law exempts it (a general
    objection does not cover it either), it goes no further, or its deadline has passed (a
    general objection still covers its later extractions)."""
    if not project.objections_applied:
        return "project_exempt"
    return "project_ended" if project.closed else "project_closed"


def sniff_document(content: bytes) -> str | None:
    """The file's type if it is a whole, passive PDF, JPEG or PNG (parsed:
    ``objection.document_checks``); None otherwise."""
    return document_checks.kind_or_none(content)


class ObjectionForm:
    """Parses and checks the submitted values; ``errors`` maps a field to its message."""

    def __init__(self, form: MultiDict, files: MultiDict | None = None,
                 project_lookup=None, today: date | None = None):
        self.values = {name: (form.get(name) or "").strip()[:300] for name in FIELDS}
        self.values["postal_address"] = normalise_address(self.values["postal_address"])
        self.too_long = {name for name in FIELDS if len(form.get(name) or "") > 300}
        self.file: FileStorage | None = (files or {}).get("document") if files else None
        self.project_lookup = project_lookup
        self.today = today or local_today()  # the filer's day, in France
        self.errors: dict[str, str] = {}
        self.document: bytes | None = None
        self.document_type = ""
        self.project = None
        self.email_ascii = ""
        self.nir: Nir | None = None
        self._nir_parsed = False
        self._nir_error: NirError | None = None

    def _error(self, field: str, key: str | None = None, message: str | None = None) -> None:
        if field not in self.errors:
            self.errors[field] = message or str(ERRORS[key or field])

    def parsed_nir(self) -> Nir | None:
        """The NIR as typed, parsed once (None when it is not one; ``validate`` says why)."""
        if not self._nir_parsed:
            self._nir_parsed = True
            try:
                self.nir = parse_nir(self.values["nir"])
            except NirError as error:
                self._nir_error = error
        return self.nir

    def birth_date(self) -> date | None:
        day, month, year = (self.values[f"birth_{part}"] for part in ("day", "month", "year"))
        if not (_DAY_OR_MONTH.match(day) and _DAY_OR_MONTH.match(month) and _YEAR.match(year)):
            return None
        try:
            return date(int(year), int(month), int(day))
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
                    self._error("project_reference", closed_reason(self.project))
        if not v["birth_name"]:
            self._error("birth_name")
        if not v["first_names"]:
            self._error("first_names")
        for name in NAME_FIELDS:
            if has_hidden_characters(v[name]):
                self._error(name, f"{name}_hidden")
        birth_date = self.birth_date()
        if birth_date is None:
            self._error("birth_date")
        if v["sex"] not in ("F", "M"):
            self._error("sex")
        nir = self.parsed_nir()
        if self._nir_error is not None:
            self._error("nir", message=self._nir_error.message)
        if birth_date is not None and "birth_date" not in self.errors:
            self._check_filer_age(birth_date)
        if nir is not None and birth_date is not None:
            problems = check_identity(nir, birth_date, v["sex"], self.today)
            for code in ("future", "too_old"):
                if code in problems:
                    self._error("birth_date", message=str(MESSAGES[code]))
            for code in ("sex", "year", "month"):
                if code in problems:
                    self._error("nir", message=str(MESSAGES[code]))
        self._check_postal_address(v["postal_address"])
        if v["email"] or not v["postal_address"]:
            self._check_email(v["email"])
        if v["consent"] != "oui":
            self._error("consent")
        return not self.errors

    def _check_filer_age(self, birth_date: date) -> None:
        """Who may file for whom, by age on the day of filing (docs/objection.md, Minors)."""
        if birth_date > self.today:
            return  # the birth date gets its own message
        age = age_on(birth_date, self.today)
        if self.values["filer"] == Filer.SELF and age < MIN_AGE_TO_FILE_ALONE:
            self._error("filer", "filer_too_young")
        elif self.values["filer"] == Filer.CHILD and age >= AGE_OF_MAJORITY:
            self._error("filer", "filer_adult")

    def _check_postal_address(self, address: str) -> None:
        """Optional; when given (the letters' address), 2 to 6 lines of visible characters."""
        if not address:
            return
        lines = address.split("\n")
        if has_hidden_characters(address.replace("\n", " ")):
            self._error("postal_address", "postal_address_hidden")
        elif not 2 <= len(lines) <= MAX_ADDRESS_LINES:
            self._error("postal_address")

    def _check_email(self, address: str) -> None:
        """A valid address that any mail server accepts. A part before the "@" that needs
        SMTPUTF8 (which many servers refuse) gets its own message, so no mail is lost silently;
        an accented domain is fine: mail goes to its ASCII (punycode) form, which every server
        accepts, while the form and the review page show it as typed."""
        if not address:
            self._error("email", "email_or_post")
            return
        try:
            validated = validate_email(address, check_deliverability=False,
                                       allow_smtputf8=False)
        except EmailNotValidError:
            try:
                validate_email(address, check_deliverability=False)
            except EmailNotValidError:
                self._error("email")
            else:  # valid only with SMTPUTF8, which many mail servers refuse
                self._error("email", "email_ascii")
            return
        self.values["email"] = validated.normalized
        self.email_ascii = validated.ascii_email or validated.normalized

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
            birth_date=birth_date, sex=v["sex"], email=self.email_ascii or v["email"],
            postal_address=v["postal_address"],
            lang=lang,
            representative_name=v["representative_name"], document=self.document,
            document_type=self.document_type,
        )
