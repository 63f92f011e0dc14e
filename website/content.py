"""Content pages: Markdown files with YAML front matter under ``content/<lang>/``.

Rendering is Markdown → glossary marking → HTML → nh3 sanitising, so whatever a page contains
(``<script>``, ``javascript:`` links, event attributes) comes out harmless. Glossary terms are
wrapped, at their first appearance in a page, in a link to their glossary entry, with an
``<abbr>`` carrying the expansion for acronyms.

Tables get what RGAA 5.4 and 5.7 ask of data tables: a ``<caption>`` (from a paragraph
``Tableau : …`` / ``Table: …`` right before the table, or else the text of the heading above it),
``scope="col"`` on the column headers and the first cell of each row made a row header
(``<th scope="row">``): in our tables the first column names what the row is about. Each table
sits in a region named by its caption that the keyboard can reach and scroll, so a wide table
scrolls by itself on a small screen instead of the page (WCAG 1.4.10).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import markdown
import nh3
import yaml
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

SECTIONS = ("comprendre", "vos-droits", "a-propos")
GLOSSARY_SLUG = "glossaire"
TOC_MIN_HEADINGS = 3
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "caption", "code", "dd", "dl", "dt", "em", "h2", "h3", "h4",
    "h5",
    "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"},
    "th": {"scope"}, "td": set(),
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    slug: str
    definition: str
    expansion: str = ""
    variants: tuple[str, ...] = ()  # other forms linked to the entry (plural, feminine, …)


@dataclass
class Page:
    lang: str
    slug: str
    title: str
    summary: str
    updated: date
    order: int
    section: str
    easy_read: bool
    body: str
    glossary: bool = True  # front matter "glossary: false": no term of this page is linked

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.slug}"


class ContentError(ValueError):
    """A content file that cannot be published as it is."""


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise ContentError("front matter missing")
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict):
        raise ContentError("front matter is not a mapping")
    return meta, text[match.end():]


def term_pattern(entry: GlossaryEntry) -> re.Pattern[str]:
    """The forms of a glossary term that are linked in text.

    The term and the variants it declares (``variants:`` in ``glossaire.yml``: plurals, feminine
    or participle forms), as whole words. A term written in lower case also matches with a
    capital (at the start of a sentence); acronyms and names (``SNDS``, ``Inserm``) match only as
    written, so that "ars" or "Mr" never become "ARS" or "MR".
    """
    forms = sorted({entry.term, *entry.variants}, key=len, reverse=True)
    flags = re.IGNORECASE if entry.term == entry.term.lower() else 0
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, forms)) + r")(?![\w-])",
                      flags)


class _GlossaryMarker(Treeprocessor):
    """Links the first appearance of each glossary term, outside links, code, headings, table
    captions and proper names (``noms-propres.yml``: the organisation's name contains "données de
    santé", which must not be linked as the generic term)."""

    SKIP = {"a", "abbr", "code", "pre", "caption", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self, md: markdown.Markdown, glossary: list[GlossaryEntry], link_base: str,
                 proper_names: tuple[str, ...] = ()):
        super().__init__(md)
        self.link_base = link_base
        # Longest terms first, so "données de santé" wins over "données".
        self.entries = sorted(glossary, key=lambda e: max(len(f) for f in (e.term, *e.variants)),
                              reverse=True)
        self.patterns = {e.slug: term_pattern(e) for e in self.entries}
        self.proper_names = (
            re.compile("|".join(map(re.escape, sorted(proper_names, key=len, reverse=True))),
                       re.IGNORECASE) if proper_names else None)
        self.seen: set[str] = set()

    def run(self, root: etree.Element) -> None:
        self._walk(root)

    def _walk(self, element: etree.Element) -> None:
        if element.tag in self.SKIP:
            return
        if element.text:
            new_text, nodes = self._mark(element.text)
            if nodes:
                element.text = new_text
                for index, node in enumerate(nodes):
                    element.insert(index, node)
        for child in list(element):
            self._walk(child)
            if child.tail:
                new_tail, nodes = self._mark(child.tail)
                if nodes:
                    child.tail = new_tail
                    position = list(element).index(child) + 1
                    for offset, node in enumerate(nodes):
                        element.insert(position + offset, node)

    def _first_match(self, pattern: re.Pattern[str], text: str,
                     protected: list[tuple[int, int]]) -> re.Match[str] | None:
        for match in pattern.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end in protected):
                return match
        return None

    def _mark(self, text: str) -> tuple[str, list[etree.Element]]:
        """Wrap the first unseen glossary term in ``text``; returns leading text and new nodes."""
        protected = ([m.span() for m in self.proper_names.finditer(text)]
                     if self.proper_names else [])
        best = None
        for entry in self.entries:
            if entry.slug in self.seen:
                continue
            match = self._first_match(self.patterns[entry.slug], text, protected)
            if match and (best is None or match.start() < best[1].start()):
                best = (entry, match)
        if best is None:
            return text, []
        entry, match = best
        self.seen.add(entry.slug)
        link = etree.Element("a", href=f"{self.link_base}#{entry.slug}")
        if entry.expansion:
            abbr = etree.SubElement(link, "abbr", title=entry.expansion)
            abbr.text = match.group(0)
        else:
            link.text = match.group(0)
        rest, more = self._mark(text[match.end():])
        link.tail = rest
        return text[: match.start()], [link, *more]


CAPTION_PREFIX = re.compile(r"^\s*(?:Tableau|Table)\s*:\s*", re.IGNORECASE)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class _TableAccessibility(Treeprocessor):
    """Caption and header scopes on every table (see the module docstring)."""

    def run(self, root: etree.Element) -> None:
        parents = [element for element in root.iter()
                   if any(child.tag == "table" for child in element)]
        for parent in parents:
            children = list(parent)
            for index, table in enumerate(children):
                if table.tag != "table":
                    continue
                caption_text, marker = self._caption(children[:index])
                if marker is not None:
                    parent.remove(marker)
                if caption_text:
                    caption = etree.Element("caption")
                    caption.text = caption_text
                    table.insert(0, caption)
                self._scope(table)

    @staticmethod
    def _caption(before: list[etree.Element]) -> tuple[str, etree.Element | None]:
        if before and before[-1].tag == "p" and len(before[-1]) == 0 and before[-1].text \
                and CAPTION_PREFIX.match(before[-1].text):
            return CAPTION_PREFIX.sub("", before[-1].text).strip(), before[-1]
        for element in reversed(before):
            if element.tag in _HEADINGS:
                return "".join(element.itertext()).strip(), None
        return "", None

    @staticmethod
    def _scope(table: etree.Element) -> None:
        for header in table.iter("th"):
            header.set("scope", "col")
        for body in table.iter("tbody"):
            for row in body.iter("tr"):
                cells = list(row)
                if len(cells) > 1 and cells[0].tag == "td":
                    cells[0].tag = "th"
                    cells[0].set("scope", "row")
                    cells[0].attrib.pop("align", None)


class TableExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After the tables are built, before the glossary marks terms.
        md.treeprocessors.register(_TableAccessibility(md), "table_accessibility", 6)


class GlossaryExtension(Extension):
    def __init__(self, glossary: list[GlossaryEntry], link_base: str,
                 proper_names: tuple[str, ...] = ()):
        super().__init__()
        self.glossary = glossary
        self.link_base = link_base
        self.proper_names = proper_names

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        marker = _GlossaryMarker(md, self.glossary, self.link_base, self.proper_names)
        md.treeprocessors.register(marker, "glossary", 5)


def sanitise(html: str) -> str:
    """Keep only harmless markup: no script, no event handler, no javascript: URL."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_TABLE_START = re.compile(r"<table>(\s*<caption>)?")


def scrollable_tables(html: str) -> str:
    """Each table of sanitised ``html`` (no attribute on ``<table>`` or ``<caption>`` survives
    ``sanitise``) in a scrolling region named by its caption: ``role="region"`` and
    ``tabindex="0"``, so the arrow keys scroll it."""
    numbers = iter(range(1, html.count("<table>") + 1))

    def wrap(match: re.Match) -> str:
        if not match.group(1):  # no caption to name it: a region would be nameless
            return '<div class="table-scroll"><table>'
        caption_id = f"tableau-legende-{next(numbers)}"
        return (f'<div class="table-scroll" role="region" tabindex="0" '
                f'aria-labelledby="{caption_id}"><table>{match.group(1)[:-len("<caption>")]}'
                f'<caption id="{caption_id}">')

    return _TABLE_START.sub(wrap, html).replace("</table>", "</table></div>")


_LINK_HREF = re.compile(r'href="(/[^"/][^"]*|/)"')


def render_markdown(text: str, glossary: list[GlossaryEntry] | None = None,
                    link_base: str = f"/comprendre/{GLOSSARY_SLUG}",
                    site_root: str = "",
                    proper_names: tuple[str, ...] = ()) -> tuple[str, list[dict]]:
    """Render untrusted Markdown to safe HTML; returns the HTML and the table of contents."""
    extensions: list = ["tables", "sane_lists", "abbr", "toc", TableExtension()]
    if glossary:
        extensions.append(GlossaryExtension(glossary, link_base, proper_names))
    md = markdown.Markdown(
        extensions=extensions,
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
        output_format="html",
    )
    html = scrollable_tables(sanitise(md.convert(text)))
    if site_root:
        html = _LINK_HREF.sub(lambda m: f'href="{site_root}{m.group(1)}"', html)
    return html, list(getattr(md, "toc_tokens", []))


class ContentLibrary:
    """All pages and the glossary of one content directory, loaded once and validated."""

    def __init__(self, root: Path, languages: tuple[str, ...]):
        self.root = root
        self.languages = languages
        self.pages: dict[str, dict[str, Page]] = {}
        self.glossary: dict[str, list[GlossaryEntry]] = {}
        self.proper_names: dict[str, tuple[str, ...]] = {}
        for lang in languages:
            self.pages[lang] = self._load_pages(lang)
            self.glossary[lang] = self._load_glossary(lang)
            self.proper_names[lang] = self._load_proper_names(lang)

    def _load_pages(self, lang: str) -> dict[str, Page]:
        pages: dict[str, Page] = {}
        directory = self.root / lang
        for path in sorted(directory.glob("*.md")):
            try:
                meta, body = split_front_matter(path.read_text(encoding="utf-8"))
                section = str(meta["section"])
                if section not in SECTIONS:
                    raise ContentError(f"unknown section {section!r}")
                updated = meta["updated"]
                if not isinstance(updated, date):
                    updated = date.fromisoformat(str(updated))
                page = Page(
                    lang=lang, slug=path.stem, title=str(meta["title"]),
                    summary=str(meta.get("summary", "")), updated=updated,
                    order=int(meta.get("order", 100)), section=section,
                    easy_read=bool(meta.get("easy_read", False)), body=body,
                    glossary=bool(meta.get("glossary", True)),
                )
            except (KeyError, ValueError, yaml.YAMLError) as exc:
                raise ContentError(f"{path}: {exc}") from exc
            pages[page.slug] = page
        return pages

    def _load_glossary(self, lang: str) -> list[GlossaryEntry]:
        path = self.root / lang / "glossaire.yml"
        if not path.exists():
            return []
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return [
            GlossaryEntry(term=str(i["term"]), slug=str(i["slug"]),
                          definition=str(i["definition"]), expansion=str(i.get("expansion", "")),
                          variants=tuple(str(v) for v in i.get("variants", ())))
            for i in items
        ]

    def _load_proper_names(self, lang: str) -> tuple[str, ...]:
        path = self.root / lang / "noms-propres.yml"
        if not path.exists():
            return ()
        return tuple(str(name) for name in yaml.safe_load(path.read_text(encoding="utf-8")) or [])

    def page(self, lang: str, section: str, slug: str) -> Page | None:
        page = self.pages.get(lang, {}).get(slug)
        if page is None or page.section != section:
            return None
        return page

    def section_pages(self, lang: str, section: str) -> list[Page]:
        pages = [p for p in self.pages.get(lang, {}).values() if p.section == section]
        return sorted(pages, key=lambda p: (p.order, p.title))

    def all_pages(self, lang: str) -> list[Page]:
        return sorted(self.pages.get(lang, {}).values(), key=lambda p: (p.section, p.order))


@lru_cache(maxsize=8)
def load_library(root: str, languages: tuple[str, ...]) -> ContentLibrary:
    return ContentLibrary(Path(root), languages)


def rendered(page: Page, glossary: list[GlossaryEntry], site_root: str,
             proper_names: tuple[str, ...] = ()) -> tuple[str, list[dict]]:
    """HTML and table of contents of ``page`` for a site mounted at ``site_root``."""
    # The glossary page itself, and pages that opt out, do not link terms.
    entries = tuple(glossary) if page.glossary and page.slug != GLOSSARY_SLUG else ()
    return _rendered_cached(page.body, entries, site_root, tuple(proper_names))


@lru_cache(maxsize=256)
def _rendered_cached(body: str, glossary: tuple[GlossaryEntry, ...], site_root: str,
                     proper_names: tuple[str, ...]) -> tuple[str, list[dict]]:
    link_base = f"/comprendre/{GLOSSARY_SLUG}"  # made absolute with the other site links
    return render_markdown(body, list(glossary), link_base=link_base, site_root=site_root,
                           proper_names=proper_names)
