"""The NIR (French social security number) and the checks against what the person entered.

A NIR is 15 characters: sex (1), birth year (2), birth month (2), department (2, ``2A``/``2B``
for Corsica), commune (3), order number (3), key (2). The key is ``97 − (number mod 97)``, where
Corsica's ``2A``/``2B`` count as ``19``/``18``. First digits 1 and 2 are men and women; 3 and 4
are numbers being assigned to people born abroad, 7 and 8 temporary numbers: odd means man,
even means woman. Month codes 20 to 42 and 50 to 99 stand for an unknown month (the register
could not record it): any birth month is then accepted. Codes 00, 13 to 19 and 43 to 49 are
never issued and are refused.

The key itself is computed by python-stdnum (``stdnum.fr.nir``); the shape, the month codes and
the agreement with what the person typed are ours, because stdnum does not check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from stdnum.fr import nir as stdnum_nir

# Spaces (including no-break ones), dots, slashes, underscores, and every Unicode dash a
# keyboard or a copy from a PDF may produce (hyphen, non-breaking hyphen, en/em dash, minus).
_SEPARATORS = re.compile(r"[\s.\-_/\u2010-\u2015\u2212\ufe63\uff0d]")
_SHAPE = re.compile(r"^[123478][0-9]{2}[0-9]{2}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")
MAX_AGE_YEARS = 130

MESSAGES = {
    "missing": _l("Saisissez le numéro de sécurité sociale."),
    "length": _l("Le numéro de sécurité sociale doit contenir 15 caractères (13 chiffres et "
                 "une clé de 2 chiffres)."),
    "format": _l("Le numéro de sécurité sociale contient des caractères inattendus. Il commence "
                 "par 1, 2, 3, 4, 7 ou 8 et ne contient que des chiffres (ou 2A, 2B pour la "
                 "Corse)."),
    "month_code": _l("Le numéro de sécurité sociale est incorrect : les 4e et 5e chiffres (le mois "
                      "de naissance) ne peuvent pas valoir %(month)s. Vérifiez chaque chiffre."),
    "key": _l("Le numéro de sécurité sociale est incorrect : la clé (les 2 derniers chiffres) "
              "ne correspond pas. Vérifiez chaque chiffre."),
    "sex": _l("Le numéro de sécurité sociale ne correspond pas au sexe indiqué. Le premier "
              "chiffre est 1 pour un homme et 2 pour une femme."),
    "year": _l("Le numéro de sécurité sociale ne correspond pas à l'année de naissance "
               "indiquée (2e et 3e chiffres)."),
    "month": _l("Le numéro de sécurité sociale ne correspond pas au mois de naissance indiqué "
                "(4e et 5e chiffres)."),
    "future": _l("La date de naissance ne peut pas être dans le futur."),
    "too_old": _l("La date de naissance indique plus de 130 ans. Vérifiez l'année."),
}


@dataclass(frozen=True)
class Nir:
    """A NIR in its normalised form (15 characters, no separators)."""

    value: str

    @property
    def sex_digit(self) -> int:
        return int(self.value[0])

    @property
    def year(self) -> int:
        return int(self.value[1:3])

    @property
    def month_code(self) -> int:
        return int(self.value[3:5])

    @property
    def month_known(self) -> bool:
        return 1 <= self.month_code <= 12

    @property
    def month_code_issued(self) -> bool:
        """Whether INSEE issues this month code: 01–12, or 20–42 and 50–99 for unknown months."""
        return 1 <= self.month_code <= 12 or 20 <= self.month_code <= 42 or self.month_code >= 50

    @property
    def sex(self) -> str:
        """``"M"`` or ``"F"``."""
        return "M" if self.sex_digit % 2 == 1 else "F"


class NirError(ValueError):
    def __init__(self, code: str, **values: str):
        super().__init__(code)
        self.code = code
        self.values = values

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % self.values if self.values else str(MESSAGES[self.code])


def normalise(raw: str) -> str:
    """Remove spaces, dots and dashes; upper-case (``2a`` → ``2A``)."""
    return _SEPARATORS.sub("", raw or "").upper()


def key_of(first_13: str) -> int:
    """The two-digit key of the first 13 characters (Corsica's 2A/2B count as 19/18)."""
    return int(stdnum_nir.calc_check_digits(first_13))


def parse_nir(raw: str) -> Nir:
    """The NIR in ``raw``, or NirError with the first problem found."""
    value = normalise(raw)
    if not value:
        raise NirError("missing")
    if len(value) != 15:
        raise NirError("length")
    if not _SHAPE.match(value):
        raise NirError("format")
    if key_of(value[:13]) != int(value[13:]):
        raise NirError("key")
    nir = Nir(value)
    if not nir.month_code_issued:
        raise NirError("month_code", month=value[3:5])
    return nir


def age_on(birth_date: date, today: date) -> int:
    """Age in whole years on ``today``."""
    return today.year - birth_date.year - ((today.month, today.day) <
                                           (birth_date.month, birth_date.day))


def check_identity(nir: Nir, birth_date: date, sex: str, today: date) -> list[str]:
    """Problem codes (keys of MESSAGES) where the NIR disagrees with the person's answers."""
    problems: list[str] = []
    if birth_date > today:
        problems.append("future")
    elif age_on(birth_date, today) > MAX_AGE_YEARS:
        problems.append("too_old")
    if sex in ("M", "F") and nir.sex != sex:
        problems.append("sex")
    if nir.year != birth_date.year % 100:
        problems.append("year")
    if nir.month_known and nir.month_code != birth_date.month:
        problems.append("month")
    return problems


def age_band(birth_date: date, today: date) -> str:
    """The coarse age band kept for statistics."""
    age = age_on(birth_date, today)
    for upper, label in ((17, "0-17"), (29, "18-29"), (44, "30-44"), (59, "45-59"),
                         (74, "60-74")):
        if age <= upper:
            return label
    return "75+"
