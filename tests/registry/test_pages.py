"""The register's public pages and open data, through HTTP, in both languages."""

from __future__ import annotations

import csv
import io
import json

import feedparser
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.registry.factories import finished, make_project


@pytest.fixture
def register(app):
    with app.app_context():
        make_project("HDH-2024-0001")
        make_project("HDH-2024-0002", title="Les hôpitaux face au cancer du sein",
                     summary="Ce projet suit les femmes soignées à l'Hôpital pour un cancer.",
                     themes=["oncologie"], sources=["ESME", "PMSI-MCO"], uses_ai=True,
                     sponsor="Laboratoires Aurore", sponsor_kind="entreprise")
        finished("HDH-2021-0003", "2023-01-01", title="Chutes des personnes âgées",
                 summary="Les chutes après 75 ans.", themes=["vieillissement"])
        finished("HDH-2021-0004", "2023-01-01", title="Dépression et travail",
                 summary="La dépression des salariés.", themes=["sante-mentale"],
                 results=[{"kind": "article", "title": "Dépression : résultats",
                           "published_on": "2024-01-10", "doi": "10.1/x"}])
    return app


PAGES = ["/projets", "/projets/HDH-2024-0001", "/projets/HDH-2024-0001/versions?de=1&a=1",
         "/sources", "/sources/DCIR", "/statistiques", "/donnees-ouvertes",
         "/organisations/centre-hospitalier-universitaire-de-valmont"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_pages_render_in_both_languages(client, register, path, prefix):
    response = client.get(prefix + path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{"en" if prefix else "fr"}">' in html
    assert "<h1>" in html


def _titles(client, query: str) -> list[str]:
    html = client.get(f"/projets?{query}").get_data(as_text=True)
    return sorted(part.split("</a>")[0].split(">")[-1]
                  for part in html.split('<h3><a href="/projets/')[1:])


def test_search_ignores_accents_case_and_plural(client, register):
    expected = ["Les hôpitaux face au cancer du sein", "Parcours de soins des enfants asthmatiques"]
    assert _titles(client, "q=hopital") == expected
    assert _titles(client, "q=H%C3%94PITAUX") == expected
    assert _titles(client, "q=H%C3%B4pital") == expected


def test_filters_sort_and_pagination_combine_in_the_url(client, register):
    html = client.get("/projets?statut=termine&tri=titre&par_page=1&page=2").get_data(as_text=True)
    assert "2 projets" in html
    assert "Dépression et travail" in html and "Chutes des personnes" not in html
    assert 'href="?statut=termine&amp;tri=titre&amp;par_page=1"' in html  # page 1 link
    assert 'aria-current="page"' in html


def test_facets_show_counts(client, register):
    html = client.get("/projets").get_data(as_text=True)
    assert "Terminé <span class=\"count\">(2)</span>" in html


def test_overdue_results_are_flagged_and_filterable(client, register):
    html = client.get("/projets?retard=oui").get_data(as_text=True)
    assert "Chutes des personnes âgées" in html and "Dépression et travail" not in html
    assert "Résultats attendus depuis" in html


def test_project_page_shows_everything(client, register):
    html = client.get("/projets/HDH-2024-0001").get_data(as_text=True)
    for text in ("Parcours de soins des enfants asthmatiques", "DR-2024-101",
                 "Centre hospitalier universitaire de Valmont", "S'opposer à ce projet",
                 "Historique des modifications", '"@type": "MedicalStudy"'):
        assert text in html, text


def test_project_reference_is_case_insensitive_and_unknown_is_404(client, register):
    assert client.get("/projets/hdh-2024-0001").status_code == 200
    assert client.get("/projets/HDH-2099-9999").status_code == 404
    assert client.get("/api/v1/projects/HDH-2099-9999").status_code == 404


@pytest.mark.parametrize("query", [
    "page=-1", "page=1000000000", "page=abc", "q=" + "x" * 10_000, "statut=nope",
    "q=%22(*%3A~%5E+AND+OR", "q=%00%01", "tri=inconnu", "par_page=0", "theme=",
    "q=title:foo", "q=*", "annee=1800",
])
def test_bad_query_strings_never_break(client, register, query):
    for path in ("/projets", "/api/v1/projects", "/projets.csv", "/projets.atom"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 400), (path, query, response.status_code)


def test_page_beyond_the_last_is_empty_with_a_way_back(client, register):
    html = client.get("/projets?page=50").get_data(as_text=True)
    assert "Revenir à la première page" in html


def test_openapi_document_is_valid(client, register):
    document = client.get("/api/v1/openapi.json").json
    validate(document)


def _validator(document: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                 "components": document["components"]})


def test_api_responses_match_their_schemas(client, register):
    document = client.get("/api/v1/openapi.json").json
    listing = client.get("/api/v1/projects?par_page=2").json
    _validator(document, "ProjectList").validate(listing)
    assert listing["meta"]["total"] == 4 and "next" in listing["links"]
    detail = client.get("/api/v1/projects/HDH-2021-0004").json
    _validator(document, "ProjectEnvelope").validate(detail)
    assert detail["data"]["results"][0]["doi"] == "10.1/x"
    assert detail["data"]["revisions"][0]["number"] == 1
    _validator(document, "SourceList").validate(client.get("/api/v1/sources").json)
    error = client.get("/api/v1/projects/HDH-2099-0001").json
    _validator(document, "Error").validate(error)


def test_api_filters_like_the_page(client, register):
    data = client.get("/api/v1/projects?q=hopitaux&ia=oui").json
    assert [p["reference"] for p in data["data"]] == ["HDH-2024-0002"]


def test_cors_on_api_gets(client, register):
    response = client.get("/api/v1/projects", headers={"Origin": "https://asso.exemple.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v1/projects",
                               headers={"Origin": "https://asso.exemple.org",
                                        "Access-Control-Request-Method": "GET"})
    assert preflight.status_code in (200, 204)
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("path", ["/projets", "/projets/HDH-2024-0001", "/api/v1/projects",
                                  "/api/v1/sources", "/projets.csv", "/projets.json",
                                  "/projets.atom", "/sources.jsonld", "/sitemap.xml",
                                  "/statistiques", "/en/projets"])
def test_conditional_requests_give_304(client, register, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_a_change_invalidates_the_etag(app, client, register):
    etag = client.get("/projets").headers["ETag"]
    with app.app_context():
        make_project("HDH-2024-0009", title="Nouveau projet")
    assert client.get("/projets", headers={"If-None-Match": etag}).status_code == 200


def test_csv_is_excel_friendly_and_licensed(client, register):
    response = client.get("/projets.csv")
    assert response.data.startswith("\ufeff".encode())
    assert "attachment" in response.headers["Content-Disposition"]
    assert "etalab" in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4 and rows[0]["reference"] == "HDH-2021-0003"
    filtered = client.get("/projets.csv?theme=oncologie").data.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(filtered), delimiter=";"))) == 1


def test_json_export(client, register):
    data = json.loads(client.get("/projets.json").data)
    assert data["licence"]["name"].startswith("Licence Ouverte 2.0")
    assert len(data["data"]) == 4


def test_atom_feed_for_any_search(client, register):
    everything = feedparser.parse(client.get("/projets.atom").data)
    assert not everything.bozo, everything.bozo_exception
    assert len(everything.entries) >= 5
    followed = feedparser.parse(client.get("/projets.atom?theme=sante-mentale&resultats=oui").data)
    assert not followed.bozo
    titles = [e.title for e in followed.entries]
    assert any(t.startswith("Nouveau résultat") for t in titles)
    assert all("Dépression" in t for t in titles)
    english = feedparser.parse(client.get("/en/projets.atom").data)
    assert english.feed.language == "en"


def test_dcat_catalogue(client, register):
    data = client.get("/sources.jsonld").json
    assert data["@type"] == "dcat:Catalog"
    codes = {d["dct:identifier"] for d in data["dcat:dataset"]}
    assert {"DCIR", "PMSI-MCO", "BNDMR", "CEPIDC"} <= codes


def test_sitemap_lists_projects_in_both_languages(client, register):
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<loc>http://localhost/projets/HDH-2024-0001</loc>" in xml
    assert "<loc>http://localhost/en/projets/HDH-2024-0001</loc>" in xml


def test_revision_comparison_side_by_side(app, client, register):
    with app.app_context():
        make_project("HDH-2024-0001", status="termine", processing_ended_on="2025-02-01")
    html = client.get("/projets/HDH-2024-0001/versions?de=1&a=2").get_data(as_text=True)
    assert "<del>En cours</del>" in html and "<ins>Terminé</ins>" in html
    assert client.get("/projets/HDH-2024-0001/versions?de=1&a=9").status_code == 404
    assert client.get("/projets/HDH-2024-0001/versions?de=x").status_code == 400


def test_statistics_has_charts_and_tables(client, register):
    html = client.get("/statistiques").get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 4
    assert "<caption>Projets par thème</caption>" in html
    assert " style=" not in html


def test_home_shows_the_register_key_figures(client, register):
    html = client.get("/").get_data(as_text=True)
    assert "<strong>4</strong> projets autorisés ou à l&#39;étude" in html or \
        "<strong>4</strong> projets autorisés ou à l'étude" in html
    assert "projects authorised or under review" in client.get("/en/").get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/projets/%00", "/projets/<script>", "/projets/" + "9" * 5000, "/sources/%FF",
    "/organisations/..%2F..%2Fetc", "/projets/HDH-2024-0001/versions?de=-1&a=99999999999999999999",
    "/api/v1/projects/%20", "/projets/HDH-2024-0001/opposition?x=%00", "/opposition?projet=%00",
    "/en/projets/%E2%80%AE", "/projets?theme=%FF%FE&q=%F0%9F%92%A5",
])
def test_odd_urls_never_give_a_server_error(client, register, path):
    assert client.get(path).status_code < 500
