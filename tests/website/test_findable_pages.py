"""No public page is hidden: the site map links every page the XML sitemap lists, the home
page leads to the statistics and the open data, the register to its statistics."""

from __future__ import annotations

import re

import pytest

# Pages a reader reaches from a list (a project, a source, an organisation): the site map
# links the lists, not each entry.
DATA_PAGES = re.compile(r"^/(projets|sources|organisations)/")


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', html))


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_site_map_links_every_page_of_the_sitemap(client, prefix):
    xml = client.get("/sitemap.xml").text
    paths = {loc.removeprefix("http://localhost")
             for loc in re.findall(r"<loc>([^<]+)</loc>", xml)}
    pages = {path for path in paths if not path.startswith("/en/")
             and not DATA_PAGES.match(path)}
    assert {"/statistiques", "/sources", "/donnees-ouvertes", "/opposition/suivi"} <= pages
    linked = {path.removeprefix("/en") or "/"
              for path in _links(client.get(f"{prefix}/plan-du-site").text)}
    assert pages - linked - {"/plan-du-site"} == set()


def test_the_home_page_leads_to_the_statistics_and_the_open_data(client):
    links = _links(client.get("/").text)
    assert {"/statistiques", "/donnees-ouvertes", "/opposition/suivi"} <= links
    assert {"/en/statistiques", "/en/donnees-ouvertes"} <= _links(client.get("/en/").text)


def test_the_register_leads_to_its_statistics(client):
    assert "/statistiques" in _links(client.get("/projets").text)
