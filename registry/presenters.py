"""How the register is shown in pages: labels for codes, facets and values, and the template
helpers (filters and globals) its pages use. The JSON shape of the open data is in
``registry.opendata.shapes``; the fields' labels are in ``registry.fields``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import fields
from registry.codes import THEMES, LegalBasis, OrganisationKind, ProcessingLocation, ProjectStatus
from registry.models import Organisation
from registry.validation import doi_name, web_address

YES_NO_LABELS = {"oui": _l("Oui"), "non": _l("Non")}
FACET_TITLES = {
    "status": _l("Statut"), "theme": _l("Thème"), "source": _l("Source de données"),
    "sponsor_kind": _l("Type de promoteur"), "year": _l("Année d'autorisation"),
    "ai": _l("Utilise l'intelligence artificielle"), "results": _l("Résultats publiés"),
    "overdue": _l("Résultats en retard"),
    "sponsor": _l("Promoteur"),
}
# An organisation's role in a project (``queries.ORGANISATION_ROLES``).
ROLE_LABELS = {"sponsor": _l("Promoteur"), "controller": _l("Responsable de traitement"),
               "funder": _l("Financeur")}

def facet_label(facet: str, value: str, source_names: dict[str, str] | None = None,
                sponsor_names: dict[str, str] | None = None) -> str:
    """A filter's value as a citizen reads it (a named sponsor: the organisation's name,
    from ``sponsor_names``; an unknown one stays as written)."""
    if facet == "sponsor":
        return (sponsor_names or {}).get(value, value)
    try:
        if facet == "status":
            return ProjectStatus(value).label
        if facet == "theme":
            return str(THEMES.get(value, value))
        if facet == "sponsor_kind":
            return OrganisationKind(value).label
        if facet in ("ai", "results"):
            return str(YES_NO_LABELS.get(value, value))
        if facet == "overdue":
            return str(_l("Résultats attendus en retard"))
        if facet == "source" and source_names:
            return source_names.get(value, value)
    except ValueError:
        pass
    return value


def sponsor_names(session: Session, slugs: list[str]) -> dict[str, str]:
    """Slug → name of the organisations a listing is filtered on (the labels of its
    named-sponsor filter); slugs of no organisation are left out."""
    if not slugs:
        return {}
    return dict(session.execute(select(Organisation.slug, Organisation.name)
                                .where(Organisation.slug.in_(slugs))).all())


def allowed_facet_values(source_codes: list[str]) -> dict[str, set[str]]:
    return {
        "status": {s.value for s in ProjectStatus},
        "theme": set(THEMES),
        "source": set(source_codes),
        "sponsor_kind": {k.value for k in OrganisationKind},
        "year": {str(y) for y in range(2000, 2101)},
    }


def value_label(field: str, value: Any) -> str:
    """A revision value as a citizen reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(YES_NO_LABELS["oui" if value else "non"])
    try:
        if field == "status":
            return ProjectStatus(value).label
        if field == "legal_basis":
            return LegalBasis(value).label
        if field == "processing_location":
            return ProcessingLocation(value).label
    except ValueError:
        return str(value)
    if field == "themes":
        return ", ".join(str(THEMES.get(t, t)) for t in value)
    if field == "status_events":
        return "; ".join(f"{e['date']} : {value_label('status', e['status'])}" for e in value)
    if field == "results":
        return "; ".join(f"{r['published_on']} : {r['title']}" for r in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def french_content() -> Markup:
    """` lang="fr"` for an element holding register text (always written in French) on a page
    in another language (WCAG 3.1.2, language of parts); nothing on French pages."""
    return Markup("") if str(get_locale()) == "fr" else Markup(' lang="fr"')


def french_span(text: object) -> Markup:
    """``text`` (escaped) in a ``<span lang="fr">`` on non-French pages, for French register
    text inside a translated sentence."""
    if str(get_locale()) == "fr":
        return Markup.escape(text)
    return Markup('<span lang="fr">{}</span>').format(text)


def init_app(app: Flask) -> None:
    """Filters and globals of the register's templates. Links: only what the register accepts
    (``validation.web_address``, ``doi_name``) is ever linked, whatever the database holds."""
    app.add_template_filter(web_address, "web_address")
    app.add_template_filter(doi_name, "doi_name")
    app.add_template_filter(lambda value: ProjectStatus(value).label, "status_label")

    @app.context_processor
    def registry_helpers() -> dict:
        return {"theme_label": lambda code: str(THEMES.get(code, code)),
                "lang_fr": french_content(), "fr_span": french_span,
                "french_fields": fields.FRENCH_TEXT_FIELDS,
                "field_label": fields.label,
                "value_label": value_label}
