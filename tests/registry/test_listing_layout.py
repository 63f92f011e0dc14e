"""What a new reader of the register meets first: the results before the filters (in the
source, so for the keyboard and screen readers too), the downloads next to the count, a skip
link, titles and descriptions that tell pages apart, a late project called late, and a 404
for an unknown project that offers the search."""

from __future__ import annotations

import re

import pytest

from tests.registry.factories import finished, make_project


@pytest.fixture
def register(app):
    with app.app_context():
        for number in range(1, 26):
            make_project(f"HDH-2024-{number:04d}", title=f"Projet numéro {number}")
        finished("HDH-2021-0003", "2023-01-01", title="Chutes des personnes âgées",
                 summary="Les chutes après 75 ans.", themes=["vieillissement"])
    return app


def _position(html: str, marker: str) -> int:
    assert marker in html, marker
    return html.index(marker)


def test_the_results_come_before_the_filters(client, register):
    html = client.get("/projets").text
    count = _position(html, 'id="results-title"')
    downloads = _position(html, 'class="downloads"')
    results = _position(html, 'class="project-list"')
    filters = _position(html, 'id="facets-title"')
    # the count, then the downloads, then the list; the filters after them all
    assert count < downloads < results < filters
    # the filters fold (closed until one is chosen) and are reachable from the count
    folded = html[filters:]
    assert re.search(r"<details>\s*<summary>", folded)
    assert 'href="#filtres"' in html[count:results] and 'id="filtres"' in html
    chosen = client.get("/projets?theme=vieillissement").text
    assert "<details open>" in chosen[_position(chosen, 'id="facets-title"'):]


def test_a_skip_link_leads_to_the_results(client, register):
    html = client.get("/projets").text
    links = re.findall(r'<a class="skip-link" href="([^"]+)">([^<]+)</a>', html)
    assert links == [("#contenu", "Aller au contenu"), ("#resultats", "Aller aux résultats")]
    assert re.search(r'<section class="results" id="resultats" tabindex="-1"', html)
    english = client.get("/en/projets").text
    assert '<a class="skip-link" href="#resultats">Skip to the results</a>' in english
    # the other pages keep their single skip link
    assert 'href="#resultats"' not in client.get("/sources").text


def test_the_listing_keeps_its_urls_and_its_page_cache(client, register):
    first = client.get("/projets?theme=vieillissement&tri=titre")
    assert first.status_code == 200 and "Chutes des personnes âgées" in first.text
    assert 'name="theme" value="vieillissement" checked' in first.text
    assert "/projets.csv?theme=vieillissement&amp;tri=titre" in first.text
    again = client.get("/projets?theme=vieillissement&tri=titre",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def _head(html: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    description = re.search(r'<meta name="description" content="([^"]*)">', html).group(1)
    return title, description


def test_paginated_pages_have_their_own_title_and_description(client, register):
    pages = [_head(client.get(f"/projets{query}").text)
             for query in ("", "?page=2", "?q=projet", "?q=projet&page=2")]
    assert len({title for title, _ in pages}) == len(pages), pages
    assert len({description for _, description in pages}) == len(pages), pages
    title, description = pages[1]
    assert title.startswith("Le registre des projets – page 2 sur 2 –")
    assert description.startswith("Page 2 sur 2. ") and "26 projets" in description
    # a filtered listing describes itself too
    filtered = _head(client.get("/projets?theme=vieillissement").text)[1]
    assert filtered == "1 projet du registre des données de santé correspond à vos critères."
    english = _head(client.get("/en/projets?page=2").text)
    assert english[0].startswith("The register of projects – page 2 of 2 –")
    assert english[1].startswith("Page 2 of 2. ")


def test_an_overdue_project_says_it_is_late(client, register):
    project = client.get("/projets/HDH-2021-0003").text
    warning = project.split('<div class="warning">')[1].split("</div>")[0]
    assert "<strong>Résultats en retard</strong>" in warning
    listing = client.get("/projets?retard=oui").text
    assert "En retard : résultats attendus depuis" in listing
    assert "Results expected</strong>" not in client.get("/en/projets/HDH-2021-0003").text


@pytest.mark.parametrize("typed", ["HDH-2099-0001", "hdh-2099-0001", "2099-0001"])
def test_an_unknown_project_offers_the_search_with_its_reference(client, register, typed):
    response = client.get(f"/projets/{typed}")
    assert response.status_code == 404
    html = response.text
    assert "<h1>Projet introuvable</h1>" in html
    assert "Aucun projet du registre ne porte la référence HDH-2099-0001." in html
    form = html.split('role="search"')[1].split("</form>")[0]
    assert 'action="/projets"' in html.split('role="search"')[0].rsplit("<form", 1)[1]
    assert 'name="q" value="HDH-2099-0001"' in form
    english = client.get(f"/en/projets/{typed}")
    assert english.status_code == 404 and "<h1>Project not found</h1>" in english.text
    assert 'action="/en/projets"' in english.text


@pytest.mark.parametrize("typed", ["Appelez-le-0800-000-000", "%3Cscript%3E", "x" * 300])
def test_an_unknown_project_never_echoes_other_text(client, register, typed):
    response = client.get(f"/projets/{typed}")
    assert response.status_code == 404
    page = response.text.split("<main")[1].split("</main>")[0]  # what the page says
    assert 'name="q" value=""' in page  # the search, empty
    assert "Appelez" not in page and "script" not in page and "x" * 50 not in page


def test_other_pages_keep_the_generic_404(client, register):
    for path in ("/page-inexistante", "/sources/INCONNUE", "/organisations/inconnue",
                 "/projets/HDH-2024-0001/versions?de=1&a=9"):
        response = client.get(path)
        assert response.status_code == 404
        assert "<h1>Page introuvable</h1>" in response.text and 'role="search"' not in \
            response.text, path
    assert client.get("/api/v1/projects/HDH-2099-0001").status_code == 404
    json_error = client.get("/projets/HDH-2099-0001", headers={"Accept": "application/json"})
    assert json_error.status_code == 404 and json_error.json["error"]["title"] == \
        "Projet introuvable"
