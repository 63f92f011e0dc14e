"""A project's fields, declared once: what the service calls each one, how a citizen reads it,
its column in the CSV export and import, its key in the JSON API and export, and how the
importer reads it. Validation, revisions, the history's labels, the CSV and JSON formats, the
importer and the feeds all read this table, so a field is added or renamed in one place.

Three kinds of fields:

* **revised** fields make up a project's public state: a change to any of them writes a
  revision (``PUBLIC_FIELDS``, in the order revisions list them);
* **input** fields are given when saving but belong to something else (an organisation's kind
  and city, the date of a new status);
* **computed** fields are worked out by the register (results due, URL, last update): the
  exports carry them and the importer ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask_babel import lazy_gettext as _l

# How the importer reads a column: text as is; a "|"-separated list (``list`` drops empty
# items, ``aligned`` keeps them, to stay aligned with another list); yes/no; a value the
# register's checks parse (``raw``: years, dates); the steps; the results.
ReadAs = Literal["text", "list", "aligned", "bool", "raw", "steps", "results"]


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # a lazy French string
    column: str | None  # CSV export and import
    json: str | None  # JSON API and export ("period.start_year": nested)
    read_as: ReadAs = "text"
    kind: Literal["revised", "input", "computed", "identity"] = "revised"
    french_text: bool = False  # free text written in French (lang="fr" on other languages)


FIELDS: tuple[Field, ...] = (
    Field("reference", _l("Référence"), "reference", "reference", kind="identity"),
    Field("title", _l("Titre"), "titre", "title", french_text=True),
    Field("summary", _l("Résumé"), "resume", "summary", french_text=True),
    Field("objective", _l("Objectif scientifique"), "objectif", "objective", french_text=True),
    Field("public_interest", _l("Intérêt public"), "interet_public", "public_interest",
          french_text=True),
    Field("sponsor", _l("Promoteur"), "promoteur", "sponsor", french_text=True),
    Field("controller", _l("Responsable de traitement"), "responsable_traitement",
          "controller", french_text=True),
    Field("funders", _l("Financeurs"), "financeurs", "funders", "aligned", french_text=True),
    Field("sources", _l("Sources de données"), "sources", "sources", "list"),
    Field("population", _l("Population étudiée"), "population", "population",
          french_text=True),
    Field("period_start_year", _l("Début de la période étudiée"), "periode_debut",
          "period.start_year", "raw"),
    Field("period_end_year", _l("Fin de la période étudiée"), "periode_fin",
          "period.end_year", "raw"),
    Field("uses_ai", _l("Intelligence artificielle"), "intelligence_artificielle", "uses_ai",
          "bool"),
    Field("data_linkage", _l("Appariement de données"), "appariement", "data_linkage", "bool"),
    Field("legal_basis", _l("Base légale"), "base_legale", "legal_basis"),
    Field("commercial", _l("But commercial"), "but_commercial", "commercial", "bool"),
    Field("processing_location", _l("Lieu de traitement des données"), "lieu_traitement",
          "processing_location"),
    Field("processing_location_detail", _l("Précision sur le lieu de traitement"),
          "lieu_traitement_precision", "processing_location_detail", french_text=True),
    Field("objections_applied", _l("Oppositions appliquées"), "oppositions_appliquees",
          "objections_applied", "bool"),
    Field("objection_exception_reason", _l("Raison de la non-application des oppositions"),
          "raison_exception", "objection_exception_reason", french_text=True),
    Field("themes", _l("Thèmes"), "themes", "themes", "list"),
    Field("status", _l("Statut"), "statut", "status"),
    Field("cnil_decision", _l("Décision de la CNIL"), "decision_cnil", "cnil_decision"),
    Field("authorised_on", _l("Date d'autorisation"), "date_autorisation", "authorised_on",
          "raw"),
    Field("planned_end", _l("Fin prévue"), "fin_prevue", "planned_end", "raw"),
    Field("processing_ended_on", _l("Fin du traitement des données"), "fin_traitement",
          "processing_ended_on", "raw"),
    Field("objection_deadline", _l("Date limite d'opposition"), "date_limite_opposition",
          "objection_deadline", "raw"),
    Field("status_events", _l("Étapes"), "etapes", "status_history", "steps"),
    Field("results", _l("Résultats"), "resultats", "results", "results", french_text=True),
    # Given when saving, about something else.
    Field("sponsor_kind", _l("Type de promoteur"), "promoteur_type", "sponsor.kind",
          kind="input"),
    Field("sponsor_city", _l("Ville du promoteur"), "promoteur_ville", "sponsor.city",
          kind="input"),
    Field("controller_kind", _l("Type de responsable de traitement"),
          "responsable_traitement_type", "controller.kind", kind="input"),
    Field("controller_city", _l("Ville du responsable de traitement"),
          "responsable_traitement_ville", "controller.city", kind="input"),
    Field("funder_kinds", _l("Types des financeurs"), "financeurs_types", "funders.kind",
          "aligned", kind="input"),
    Field("funder_cities", _l("Villes des financeurs"), "financeurs_villes", "funders.city",
          "aligned", kind="input"),
    Field("status_date", _l("Date du statut"), "statut_date", None, "raw", kind="input"),
    # Worked out by the register.
    Field("results_count", _l("Nombre de résultats"), "nombre_resultats", "results_count",
          kind="computed"),
    Field("results_due_on", _l("Résultats dus le"), "resultats_dus_le", "results_due_on",
          kind="computed"),
    Field("results_overdue", _l("Résultats en retard"), "resultats_en_retard",
          "results_overdue", kind="computed"),
    Field("results_overdue_months", _l("Mois de retard"), "mois_de_retard",
          "results_overdue_months", kind="computed"),
    Field("url", _l("Adresse de la page"), "url", "url", kind="computed"),
    Field("updated_at", _l("Mis à jour"), "mis_a_jour", "updated_at", kind="computed"),
    Field("created_at", _l("Créé"), None, "created_at", kind="computed"),
    Field("revisions", _l("Versions"), None, "revisions", kind="computed"),
    Field("licence", _l("Licence"), "licence", None, kind="computed"),
)
BY_NAME = {field.name: field for field in FIELDS}

#: The fields of a project's public state, in the order revisions list them.
PUBLIC_FIELDS = tuple(f.name for f in FIELDS if f.kind == "revised")
#: Fields whose values are free text written in French.
FRENCH_TEXT_FIELDS = frozenset(f.name for f in FIELDS if f.french_text)
#: Column → field for every column the importer reads (computed ones are ignored).
IMPORT_COLUMNS = {f.column: f for f in FIELDS if f.column and f.kind != "computed"}
#: Columns the CSV export adds that the importer ignores.
COMPUTED_COLUMNS = tuple(f.column for f in FIELDS if f.column and f.kind == "computed")
#: Keys of the JSON export that the importer ignores.
COMPUTED_JSON_KEYS = tuple(f.json for f in FIELDS if f.json and f.kind == "computed")


def label(name: str) -> str:
    """How a citizen reads a field's name (the name itself for an unknown one)."""
    field = BY_NAME.get(name)
    return str(field.label) if field else name


def column(name: str) -> str:
    """The CSV column of a field (its name when it has none)."""
    field = BY_NAME.get(name)
    return field.column if field and field.column else name
