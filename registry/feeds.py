"""Atom 1.0 documents (RFC 4287), built with the standard library's XML writer.

Entries are events of the register (a project published, a project changed, a result
published), so a patient association can follow any search of the register in a feed reader.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM_NS)
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


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
    _el(feed, "link", rel="license", href=LICENCE_URL)
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
