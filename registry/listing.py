"""The register's listing parameters: parsed once from the query string, shared by the page,
the JSON API, the CSV export and the Atom feed, so every view filters the same way.

Parameter names are French, as citizens see them in shareable URLs; facet keys are the search
engine's. Unknown facet values are dropped (a stale bookmark still works); values that cannot be
meant (page=-1, page=10^9, a 10 kB query) are clamped or refused with a clear 400.

The sponsor is named by ``promoteur`` (the organisation's slug, as in its page's address, or its
name) and its kind by ``promoteur_type``, the words of the CSV export's columns. ``promoteur``
meant the kind until December 2026: a value that is a kind (``promoteur=hopital``) still
filters by kind, so old links keep their meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from registry.codes import OrganisationKind
from registry.search import MAX_TEXT
from registry.service import slugify

# The longest search text accepted (characters): the page's field, the OpenAPI document and
# the 400 message all say this number, and the search backends cut at it too.
MAX_QUERY_LENGTH = MAX_TEXT
MAX_PAGE = 10_000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100

# URL parameter → search facet (counted, offered as choices)
FACET_PARAMS: dict[str, str] = {
    "statut": "status",
    "theme": "theme",
    "source": "source",
    "promoteur_type": "sponsor_kind",
    "annee": "year",
    "ia": "ai",
    "resultats": "results",
    "retard": "overdue",
}
# URL parameter → search filter: the facets, and the named sponsor (not counted).
FILTER_PARAMS: dict[str, str] = {"promoteur": "sponsor", **FACET_PARAMS}
SPONSOR_KINDS = frozenset(kind.value for kind in OrganisationKind)
SPONSOR_SLUG_LENGTH = 120  # as ``Organisation.slug``
SORTS = ("pertinence", "recent", "titre", "reference", "annee")
SORT_TO_SEARCH = {"pertinence": "relevance", "recent": "recent", "titre": "title",
                  "reference": "reference", "annee": "year"}
YES_NO = ("oui", "non")


class BadListingRequest(ValueError):
    """A query string no one could mean; the view answers 400 with this French message."""


@dataclass
class ListingParams:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet → values
    sort: str = ""
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def search_sort(self) -> str:
        if self.sort:
            return SORT_TO_SEARCH[self.sort]
        return "relevance" if self.text else "recent"

    def to_args(self, **changes: object) -> list[tuple[str, str]]:
        """The query string of this listing (with ``changes``), in a stable order."""
        values: dict[str, object] = {
            "q": self.text, "tri": self.sort, "page": self.page,
            "par_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else "",
        }
        values.update(changes)
        args: list[tuple[str, str]] = []
        if values["q"]:
            args.append(("q", str(values["q"])))
        filters = changes.get("filters", self.filters)
        for param, facet in FILTER_PARAMS.items():
            for value in sorted(filters.get(facet, [])):  # type: ignore[union-attr]
                args.append((param, value))
        if values["tri"]:
            args.append(("tri", str(values["tri"])))
        if values["par_page"]:
            args.append(("par_page", str(values["par_page"])))
        if values["page"] and int(values["page"]) > 1:  # type: ignore[call-overload]
            args.append(("page", str(values["page"])))
        return args

    def query_string(self, **changes: object) -> str:
        return urlencode(self.to_args(**changes))

    def toggled(self, facet: str, value: str) -> str:
        """Query string with ``value`` added to or removed from ``facet``, back to page 1."""
        filters = {k: list(v) for k, v in self.filters.items()}
        current = filters.setdefault(facet, [])
        if value in current:
            current.remove(value)
        else:
            current.append(value)
        return self.query_string(filters=filters, page=1)

    def unlisted_filters(self) -> dict[str, list[str]]:
        """The filters that are not facets (the named sponsor): the facets' form keeps them
        in hidden fields, since it offers no choice for them."""
        return {facet: values for facet, values in self.filters.items()
                if facet not in FACET_PARAMS.values()}

    @property
    def active(self) -> bool:
        return bool(self.text or any(self.filters.values()))


def _clean_text(raw: str) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in raw)
    return " ".join(text.split())


def parse_listing(args: MultiDict, allowed: dict[str, set[str]] | None = None) -> ListingParams:
    """Read and validate the listing parameters.

    ``allowed`` maps a facet to its known values; values outside it are ignored.
    Raises BadListingRequest for a query string that cannot be meant.
    """
    raw_text = args.get("q", "") or ""
    if len(raw_text) > MAX_QUERY_LENGTH:
        raise BadListingRequest(_(
            "La recherche est trop longue. Utilisez au plus %(count)s caractères.",
            count=MAX_QUERY_LENGTH))
    text = _clean_text(raw_text)[:MAX_QUERY_LENGTH]
    filters: dict[str, list[str]] = {}
    for param, facet in FILTER_PARAMS.items():
        for value in args.getlist(param):
            target, value = _filter_value(facet, value)
            if not value or value in filters.get(target, []):
                continue
            if target in ("ai", "results") and value not in YES_NO:
                continue
            if target == "overdue" and value != "oui":
                continue
            if allowed is not None and target in allowed and value not in allowed[target]:
                continue
            filters.setdefault(target, []).append(value)
    sort = args.get("tri", "")
    if sort not in SORTS:
        sort = ""
    page = _positive_int(args.get("page"), "page", default=1)
    if page > MAX_PAGE:
        raise BadListingRequest(
            _("Le numéro de page doit être compris entre 1 et %(max)s.", max=MAX_PAGE))
    per_page = min(_positive_int(args.get("par_page"), "par_page", default=DEFAULT_PER_PAGE),
                   MAX_PER_PAGE)
    return ListingParams(text=text, filters=filters, sort=sort, page=page, per_page=per_page)


def _filter_value(facet: str, raw: str) -> tuple[str, str]:
    """(filter, value) a query-string value stands for. A named sponsor is an
    organisation's slug: a name is turned into its slug, and a kind (the parameter's old
    meaning) stays a kind."""
    value = raw.strip()
    if facet != "sponsor":
        return facet, value[:80]
    if value in SPONSOR_KINDS:
        return "sponsor_kind", value
    if not any(ch.isalnum() for ch in value):
        return facet, ""
    return facet, slugify(value[:2 * SPONSOR_SLUG_LENGTH], SPONSOR_SLUG_LENGTH)


def _positive_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise BadListingRequest(
            _("Le paramètre « %(name)s » doit être un nombre entier positif.", name=name))
    return value
