"""Atom 1.0 documents (RFC 4287), built with the standard library's XML writer.

Entries are events of the register (a project published, a project changed, a result
published), so a patient association can follow any search of the register in a feed reader.
"""

from __future__ import annotations

import heapq
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _

from registry.fields import label
from registry.listing import FILTER_PARAMS, ListingParams
from registry.models import Project
from registry.opendata.shapes import LICENCE
from registry.presenters import FACET_TITLES, facet_label

ATOM_NS = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM_NS)


@dataclass(frozen=True)
class FeedEntry:
    id: str  # a stable tag: URI
    title: str
    link: str
    updated: datetime
    summary: str
    category: str = ""


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(*, feed_id: str, title: str, self_url: str, alternate_url: str, lang: str,
              updated: datetime, entries: Iterable[FeedEntry], author: str,
              rights: str) -> bytes:
    """Serialise a feed; ``updated`` is the newest entry's date (or the register's last change)."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    _el(feed, "id", feed_id)
    _el(feed, "title", title)
    _el(feed, "updated", _iso(updated))
    _el(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _el(feed, "link", rel="alternate", href=alternate_url, type="text/html")
    _el(feed, "link", rel="license", href=LICENCE["url"])
    _el(feed, "rights", rights)
    author_el = _el(feed, "author")
    _el(author_el, "name", author)
    _el(feed, "generator", "hdh-transparence")
    for entry in entries:
        item = _el(feed, "entry")
        _el(item, "id", entry.id)
        _el(item, "title", entry.title)
        _el(item, "updated", _iso(entry.updated))
        _el(item, "link", rel="alternate", href=entry.link, type="text/html")
        _el(item, "summary", entry.summary, type="text")
        if entry.category:
            _el(item, "category", term=entry.category)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# --------------------------------------------------------------------------- the register's feed

FEED_SIZE = 100  # entries, newest first
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)  # a feed with no entry still has a date


def register_entries(projects: Iterable[Project], link_base: str) -> list[FeedEntry]:
    """The newest events of ``projects`` (new project, project changed, result published),
    newest first: the last three versions of each project and all its results. Only the
    ``FEED_SIZE`` newest are kept while reading, so memory stays bounded."""
    return heapq.nlargest(FEED_SIZE, _entries(projects, link_base), key=lambda e: e.updated)


def _entries(projects: Iterable[Project], link_base: str) -> Iterator[FeedEntry]:
    for project in projects:
        link = f"{link_base}/projets/{project.reference}"
        for revision in project.revisions[-3:]:
            if revision.number == 1:
                title = _("Nouveau projet : %(title)s", title=project.title)
                summary = project.summary
            else:
                fields = ", ".join(label(name) for name in revision.changed_fields)
                title = _("Projet modifié : %(title)s", title=project.title)
                summary = _("Modifié : %(fields)s.", fields=fields)
            yield FeedEntry(
                id=f"tag:hdh-transparence,2026:{project.reference}:v{revision.number}",
                title=title, link=link, updated=revision.created_at, summary=summary,
                category="projet")
        for result in project.results:
            moment = datetime(result.published_on.year, result.published_on.month,
                              result.published_on.day, tzinfo=UTC)
            yield FeedEntry(
                id=f"tag:hdh-transparence,2026:{project.reference}:resultat:{result.id}",
                title=_("Nouveau résultat : %(title)s", title=result.title), link=link,
                updated=moment, summary=result.summary or project.title,
                category="resultat")


def feed_title(params: ListingParams, source_names: dict[str, str],
               sponsor_names: dict[str, str] | None = None) -> str:
    """The feed's title, with the search and every filter it follows, as the listing's
    "Vos critères" shows them: « cancer » · Promoteur : CHU de Valmont · Thème : Cancers,
    Santé des enfants · Statut : … (a named sponsor by its name, from ``sponsor_names``)."""
    criteria = [_("« %(text)s »", text=params.text)] if params.text else []
    for facet in FILTER_PARAMS.values():
        values = params.filters.get(facet)
        if values:
            criteria.append(_("%(facet)s : %(values)s", facet=FACET_TITLES[facet],
                              values=", ".join(facet_label(facet, value, source_names,
                                                           sponsor_names)
                                               for value in values)))
    title = _("Registre des projets – nouveautés")
    return f"{title} ({' · '.join(criteria)})" if criteria else title
