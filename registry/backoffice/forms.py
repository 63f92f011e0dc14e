"""The editors' forms (Flask-WTF: each carries its CSRF token). The register's own checks
(``registry.preparation``) give one French message per field; these forms only read input."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

# The project form's fields, in order: (name, label, kind). Kinds: text, area, year, date,
# bool, choice (a code list), many (checkboxes).
PROJECT_FIELDS: tuple[tuple[str, Any, str], ...] = (
    ("title", _l("Titre"), "text"),
    ("summary", _l("Résumé"), "area"),
    ("objective", _l("Objectif scientifique"), "area"),
    ("public_interest", _l("Intérêt public"), "area"),
    ("sponsor", _l("Promoteur"), "text"),
    ("sponsor_kind", _l("Type de promoteur (s'il est nouveau)"), "choice"),
    ("sponsor_city", _l("Ville du promoteur"), "text"),
    ("controller", _l("Responsable de traitement (s'il diffère du promoteur)"), "text"),
    ("population", _l("Population étudiée"), "area"),
    ("period_start_year", _l("Début de la période étudiée (année)"), "year"),
    ("period_end_year", _l("Fin de la période étudiée (année)"), "year"),
    ("sources", _l("Sources de données"), "many"),
    ("themes", _l("Thèmes"), "many"),
    ("legal_basis", _l("Base légale"), "choice"),
    ("processing_location", _l("Lieu de traitement des données"), "choice"),
    ("processing_location_detail", _l("Précision sur le lieu de traitement"), "text"),
    ("uses_ai", _l("Le projet utilise l'intelligence artificielle"), "bool"),
    ("data_linkage", _l("Le projet apparie des données"), "bool"),
    ("commercial", _l("Le projet a un but commercial"), "bool"),
    ("objections_applied", _l("Les oppositions s'appliquent à ce projet"), "bool"),
    ("objection_exception_reason", _l("Raison de la non-application des oppositions"), "area"),
    ("cnil_decision", _l("Décision de la CNIL"), "text"),
    ("authorised_on", _l("Date d'autorisation (AAAA-MM-JJ)"), "date"),
    ("planned_end", _l("Fin prévue (AAAA-MM-JJ)"), "date"),
    ("objection_deadline", _l("Date limite d'opposition (AAAA-MM-JJ)"), "date"),
)
TEXT_MAX = 20_000


class ButtonForm(FlaskForm):
    """A button that changes something: its CSRF token only."""


class StatusForm(FlaskForm):
    status = StringField(_l("Nouveau statut"))
    on = StringField(_l("Date de l'étape (AAAA-MM-JJ)"), validators=[Length(max=10)])
    decision_number = StringField(_l("Numéro de décision (facultatif)"),
                                  validators=[Length(max=60)])
    note = TextAreaField(_l("Note publique (facultative)"), validators=[Length(max=2000)])


class ResultForm(FlaskForm):
    kind = StringField(_l("Type de résultat"))
    title = StringField(_l("Titre"), validators=[Length(max=400)])
    published_on = StringField(_l("Date de publication (AAAA-MM-JJ)"),
                               validators=[Length(max=10)])
    url = StringField(_l("Adresse web (facultative)"), validators=[Length(max=500)])
    doi = StringField(_l("DOI (facultatif)"), validators=[Length(max=200)])
    summary = TextAreaField(_l("Résumé (facultatif)"), validators=[Length(max=TEXT_MAX)])


class OrganisationForm(FlaskForm):
    kind = StringField(_l("Type"))
    city = StringField(_l("Ville"), validators=[Length(max=120)])


def project_data(form: dict, *, creating: bool) -> dict[str, Any]:
    """The service's input from the posted project form: text trimmed, check boxes as
    booleans, lists for the multiple choices, empty optional fields left empty."""
    data: dict[str, Any] = {}
    if creating:
        data["reference"] = str(form.get("reference", "")).strip().upper()[:20]
        data["status"] = str(form.get("status", "")).strip()[:40] or None
    for name, _label, kind in PROJECT_FIELDS:
        if kind == "bool":
            data[name] = form.get(name) == "oui"
        elif kind == "many":
            data[name] = [str(value)[:60] for value in form.getlist(name)][:100]
        else:
            data[name] = str(form.get(name, "")).strip()[:TEXT_MAX]
    for name in ("sponsor_kind", "sponsor_city"):  # only said when given
        if not data[name]:
            data.pop(name)
    return data
