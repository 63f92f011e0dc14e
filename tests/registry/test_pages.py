"""The register's public pages and open data, through HTTP, in both languages."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import feedparser
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from core.extensions import db
from registry import queries
from registry.search import documents
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
    assert re.search(r"<h1[ >]", html)


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
    assert "En retard : résultats attendus depuis" in html


def test_project_page_shows_everything(client, register):
    html = client.get("/projets/HDH-2024-0001").get_data(as_text=True)
    for text in ("Parcours de soins des enfants asthmatiques", "DR-2024-101",
                 "Centre hospitalier universitaire de Valmont", "S'opposer à ce projet",
                 "Historique des modifications", '"@type": "MedicalStudy"'):
        assert text in html, text
    finished = client.get("/projets/HDH-2021-0003").get_data(as_text=True)
    # "1er janvier" once the website writes the first of the month as French prose does.
    assert re.search("Fin du traitement des données</dt><dd>1(er)? janvier 2023</dd>", finished)


def _json_ld(html: str) -> dict:
    return json.loads(html.split('<script type="application/ld+json">')[1].split("</script>")[0])


def test_json_ld_uses_schema_org_vocabulary(app, client, register):
    data = _json_ld(client.get("/projets/HDH-2024-0001").get_data(as_text=True))
    assert data["status"] == "https://schema.org/ActiveNotRecruiting"  # en cours
    assert data["healthCondition"] == []  # children's health is a subject, not a disease
    finished = _json_ld(client.get("/projets/HDH-2021-0004").get_data(as_text=True))
    assert finished["status"] == "https://schema.org/Completed"
    with app.app_context():
        make_project("HDH-2024-0005", status="abandonne", processing_ended_on="2023-12-01",
                     authorised_on="", status_events=[
            {"status": "depose", "date": "2023-10-01"},
            {"status": "abandonne", "date": "2023-12-01"}])
    stopped = _json_ld(client.get("/projets/HDH-2024-0005").get_data(as_text=True))
    assert stopped["status"] == "https://schema.org/Withdrawn"  # before any data


def test_a_passed_objection_deadline_is_said(app, client, register, clock):
    with app.app_context():
        make_project("HDH-2024-0006", objection_deadline="2026-03-15")
    clock.on(date(2026, 3, 15))
    html = client.get("/projets/HDH-2024-0006").get_data(as_text=True)
    assert "S'opposer à ce projet" in html and "Possible jusqu'au 15 mars 2026" in html
    clock.on(date(2026, 3, 16))
    html = client.get("/projets/HDH-2024-0006").get_data(as_text=True)
    assert "S'opposer à ce projet</a>" not in html
    assert ("Il n'est plus possible de s'opposer à ce projet depuis le 16 mars 2026 "
            "(date limite : 15 mars 2026).") in html.replace("&#39;", "'")


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


@pytest.mark.parametrize("path", [
    "/projets", "/projets/HDH-2024-0001", "/api/v1/projects", "/api/v1/sources",
    "/projets.csv", "/projets.json", "/projets.atom", "/sources.jsonld", "/sitemap.xml",
    "/statistiques", "/en/projets", "/sources/DCIR", "/sources",
    "/organisations/centre-hospitalier-universitaire-de-valmont",
    "/projets/HDH-2024-0001/versions?de=1&a=1", "/api/v1/openapi.json", "/donnees-ouvertes",
    "/api/v1/projects/HDH-2024-0001", "/en/donnees-ouvertes"])
def test_conditional_requests_give_304(client, register, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # a 304 tells caches what the 200 did (RFC 9110 §15.4.5)
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Vary"] == first.headers["Vary"]
    assert again.headers["ETag"] == first.headers["ETag"]
    if path == "/statistiques":
        # Its objection figures have no date: the ETag alone validates it.
        assert "Last-Modified" not in first.headers
        return
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_statistics_follow_objection_filings(app, client, register, monkeypatch):
    from tests.objection.factories import file_through_ui

    etag = client.get("/statistiques").headers["ETag"]
    # A current copy is answered before anything is computed.
    monkeypatch.setattr("registry.statistics.statistics", lambda *a, **k: 1 / 0)
    assert client.get("/statistiques", headers={"If-None-Match": etag}).status_code == 304
    monkeypatch.undo()
    assert file_through_ui(client).status_code == 303
    # The register did not change, the objection figures did: the old copy is stale.
    fresh = client.get("/statistiques", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


def test_overdue_follows_the_calendar_without_reindexing(client, register, clock):
    # HDH-2021-0003: processing ended 2023-01-01, no result: due 2024-07-01 (18 months).
    clock.on(date(2024, 7, 1))
    html = client.get("/projets?retard=oui").get_data(as_text=True)
    assert "Aucun projet ne correspond" in html
    assert client.get("/api/v1/projects?retard=oui").json["meta"]["total"] == 0
    clock.on(date(2024, 7, 2))
    html = client.get("/projets?retard=oui").get_data(as_text=True)
    assert "Chutes des personnes âgées" in html and "1 projet" in html
    facets = client.get("/api/v1/projects").json["meta"]["facets"]["overdue"]
    assert {"value": "oui", "count": 1} in facets
    assert client.get("/api/v1/projects?retard=oui").json["meta"]["total"] == 1


def test_date_dependent_pages_change_last_modified_each_day(client, register, clock):
    clock.on(date(2030, 5, 1))
    first = client.get("/projets/HDH-2021-0003")
    # The day starts at midnight in Paris (22:00 UTC the day before in summer): never a
    # Last-Modified later than the response's own date, even just after midnight in France.
    assert first.headers["Last-Modified"] == "Tue, 30 Apr 2030 22:00:00 GMT"
    clock.on(date(2030, 5, 2))
    later = client.get("/projets/HDH-2021-0003",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert later.status_code == 200
    assert later.headers["Last-Modified"] == "Wed, 01 May 2030 22:00:00 GMT"
    assert later.headers["ETag"] != first.headers["ETag"]
    # a page that does not depend on the date keeps its validators
    source = client.get("/sources/DCIR")
    clock.on(date(2030, 5, 3))
    assert client.get("/sources/DCIR", headers={"If-None-Match": source.headers["ETag"]}
                      ).status_code == 304


def test_a_change_invalidates_the_etag(app, client, register):
    etag = client.get("/projets").headers["ETag"]
    with app.app_context():
        make_project("HDH-2024-0009", title="Nouveau projet")
    assert client.get("/projets", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize("path", [
    "/projets", "/projets/HDH-2024-0001", "/organisations/laboratoires-aurore",
    "/api/v1/projects/HDH-2024-0002"])
def test_an_organisation_change_invalidates_the_etag(app, client, register, path):
    first = client.get(path)
    with app.app_context():
        from registry import service
        from registry.models import Organisation

        for organisation in db.session.query(Organisation):
            service.update_organisation(db.session, organisation, kind="association",
                                        city="Quimper")
        db.session.commit()
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    shown = "Association" if path == "/projets" else "Quimper"  # the listing: kind facet
    assert shown not in first.get_data(as_text=True)
    assert shown in again.get_data(as_text=True)


def test_csv_is_excel_friendly_and_licensed(client, register):
    response = client.get("/projets.csv")
    assert response.data.startswith("\ufeff".encode())
    assert "attachment" in response.headers["Content-Disposition"]
    assert "etalab" in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4 and rows[0]["reference"] == "HDH-2021-0003"
    assert all(row["licence"] == "etalab-2.0" for row in rows)
    published = next(row for row in rows if row["reference"] == "HDH-2021-0004")
    assert published["nombre_resultats"] == "1"
    assert published["resultats"] == "https://doi.org/10.1/x"
    assert published["etapes"].startswith("2023-10-01 depose|")
    assert "lieu_traitement_precision" in rows[0]
    filtered = client.get("/projets.csv?theme=oncologie").data.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(filtered), delimiter=";"))) == 1


def test_json_export(client, register):
    data = json.loads(client.get("/projets.json").data)
    assert data["licence"]["name"].startswith("Licence Ouverte 2.0")
    assert data["licence"]["id"] == "etalab-2.0"
    assert len(data["data"]) == 4
    searched = json.loads(client.get("/projets.json?q=hopital&tri=titre").data)
    assert [p["reference"] for p in searched["data"]] == ["HDH-2024-0002", "HDH-2024-0001"]


def test_exports_load_every_match_with_one_search(app, client, register, monkeypatch):
    from registry import search

    with app.app_context():
        backend = search.get_search_backend(app)
    calls = {"search": 0, "matching_ids": 0}
    for name in calls:
        original = getattr(backend, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(backend, name, counted)
    monkeypatch.setattr("registry.responses.EXPORT_CHUNK", 1)
    loads = []
    original_load = queries.projects_by_ids
    monkeypatch.setattr(queries, "projects_by_ids",
                        lambda session, ids, **kw: loads.append(ids) or original_load(
                            session, ids, **kw))
    rows = client.get("/projets.csv?statut=termine").data.decode("utf-8-sig").splitlines()
    assert len(rows) == 3  # header and two projects
    assert calls == {"search": 0, "matching_ids": 1}
    assert len(loads) == 2 and all(len(chunk) == 1 for chunk in loads)


def test_open_data_page_states_the_licence(client, register):
    html = client.get("/donnees-ouvertes").get_data(as_text=True)
    assert "Licence Ouverte 2.0 (etalab-2.0)" in html
    assert "https://www.etalab.gouv.fr/licence-ouverte-open-licence/" in html
    assert client.get("/api/v1/openapi.json").json["info"]["license"]["identifier"] == \
        "etalab-2.0"


def test_open_data_page_validators_are_worked_out_once(app, client, register, monkeypatch):
    first = client.get("/donnees-ouvertes")

    def no_file_reading(*args, **kwargs):
        raise AssertionError("files read again")

    monkeypatch.setattr("registry.responses.Path", no_file_reading)
    assert client.get("/donnees-ouvertes").headers["ETag"] == first.headers["ETag"]
    assert client.get("/donnees-ouvertes", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304


def test_open_data_page_etag_follows_the_website_catalogue(app, tmp_path):
    import shutil

    from tests.conftest import make_test_app

    catalogues = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    copies = []
    for directory in catalogues:
        copy = tmp_path / "translations" / directory.rstrip("/").rsplit("/", 1)[-1]
        shutil.copytree(directory, copy)
        copies.append(copy)
    website = next(c for c in copies if c.name == "website")
    registry = next(c for c in copies if c.name == "registry")
    url = app.config["DATABASE_URL"]

    def etag() -> str:
        other = make_test_app(url, tmp_path / "instance",
                              BABEL_TRANSLATION_DIRECTORIES=";".join(map(str, copies)))
        try:
            return other.test_client().get("/donnees-ouvertes").headers["ETag"]
        finally:
            other.extensions["database"]["engine"].dispose()

    before = etag()
    # The layout's strings are the website's: another website catalogue, another page.
    mo = "en/LC_MESSAGES/messages.mo"
    shutil.copy(registry / mo, website / mo)
    assert etag() != before


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
    categories = {d["dct:identifier"]: d["healthdcatap:healthCategory"]["@id"]
                  for d in data["dcat:dataset"]}
    assert all(re.match(r"^https?://\S+/healthcategories/[A-Z]{4}$", iri)
               for iri in categories.values()), categories
    assert categories["DCIR"].endswith("/HRAD") and categories["CEPIDC"].endswith("/MRMR")


def test_filters_stay_selected_even_without_matches(client, register):
    html = client.get("/projets?statut=depose&retard=oui&par_page=50").get_data(as_text=True)
    assert "Aucun projet ne correspond" in html
    filters = html.split('aria-labelledby="facets-title"')[1].split("</aside>")[0]
    assert re.search(r'name="statut" value="depose" checked', filters)
    assert re.search(r'name="retard" value="oui" checked', filters)
    assert 'Demande déposée <span class="count">(0)</span>' in filters
    assert '<input type="hidden" name="par_page" value="50">' in filters
    search_form = html.split('role="search"')[1].split("</form>")[0]
    for hidden in ('name="statut" value="depose"', 'name="retard" value="oui"',
                   'name="par_page" value="50"'):
        assert f'<input type="hidden" {hidden}>' in search_form
    sorted_html = client.get("/projets?tri=titre&theme=oncologie").get_data(as_text=True)
    search_form = sorted_html.split('role="search"')[1].split("</form>")[0]
    assert '<input type="hidden" name="tri" value="titre">' in search_form


def test_repeated_query_parameters(client, register):
    assert _titles(client, "theme=oncologie&theme=vieillissement") == [
        "Chutes des personnes âgées", "Les hôpitaux face au cancer du sein"]
    once = client.get("/api/v1/projects?statut=termine").json["meta"]["total"]
    twice = client.get("/api/v1/projects?statut=termine&statut=termine").json["meta"]["total"]
    assert once == twice == 2
    # single-valued parameters: the first one counts
    assert client.get("/api/v1/projects?par_page=1&par_page=50").json["meta"]["per_page"] == 1
    assert client.get("/api/v1/projects?q=chutes&q=hopital").json["meta"]["total"] == 1
    for path in ("/projets", "/projets.csv", "/projets.atom", "/projets.json"):
        assert client.get(f"{path}?page=1&page=2&tri=titre&tri=annee").status_code == 200


@pytest.mark.parametrize("path", ["/en/projets", "/en/projets/HDH-2024-0002",
                                  "/en/sources/ESME",
                                  "/en/organisations/laboratoires-aurore"])
def test_french_register_text_is_marked_french_on_english_pages(client, register, path):
    html = client.get(path).get_data(as_text=True)
    french = {
        "/en/projets": ['lang="fr">Les hôpitaux face au cancer du sein</a>',
                        'lang="fr">Laboratoires Aurore</a>',
                        '<p class="snippet" lang="fr">Ce projet suit les femmes'],
        "/en/projets/HDH-2024-0002": [
            '<h1 lang="fr">Les hôpitaux face au cancer du sein</h1>',
            '<p lang="fr">Ce projet suit les femmes', '<dd lang="fr">Décrire',
            '<dd lang="fr">Mieux organiser', 'lang="fr">Laboratoires Aurore</a>'],
        "/en/sources/ESME": ['<h1 lang="fr">', '<dd lang="fr">',
                             'lang="fr">Les hôpitaux face au cancer du sein</a>'],
        "/en/organisations/laboratoires-aurore": [
            '<h1 lang="fr">Laboratoires Aurore</h1>',
            'lang="fr">Les hôpitaux face au cancer du sein</a>',
            '<span lang="fr">Laboratoires Aurore</span>'],
    }[path]
    for fragment in french:
        assert fragment in html, fragment
    # the French pages do not repeat the page's language
    assert 'lang="fr">Les hôpitaux' not in client.get(path[3:]).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/HDH-2024-0002",
                                  "/api/v1/sources", "/api/v1/openapi.json", "/projets.csv",
                                  "/projets.json", "/sources.jsonld", "/sitemap.xml"])
def test_open_data_under_en(client, register, path):
    french, english = client.get(path), client.get("/en" + path)
    assert english.status_code == 200
    assert english.mimetype == french.mimetype
    if path.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(english.data.decode("utf-8-sig")), delimiter=";"))
        assert len(rows) == 4
    elif path.endswith(".xml"):
        assert "<loc>http://localhost/en/projets/HDH-2024-0001</loc>" in english.text
    else:
        assert english.json == french.json  # the data are the same in every language


def test_sitemap_lists_projects_in_both_languages(client, register):
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<loc>http://localhost/projets/HDH-2024-0001</loc>" in xml
    assert "<loc>http://localhost/en/projets/HDH-2024-0001</loc>" in xml
    assert "<loc>http://localhost/organisations/laboratoires-aurore</loc>" in xml
    assert "<loc>http://localhost/en/</loc>" in xml
    assert all(loc.startswith("http://localhost/") for loc in re.findall(r"<loc>([^<]*)", xml))


def test_revision_comparison_side_by_side(app, client, register):
    with app.app_context():
        make_project("HDH-2024-0001", status="termine", processing_ended_on="2025-02-01")
    html = client.get("/projets/HDH-2024-0001/versions?de=1&a=2").get_data(as_text=True)
    assert "<del>En cours</del>" in html and "<ins>Terminé</ins>" in html
    assert client.get("/projets/HDH-2024-0001/versions?de=1&a=9").status_code == 404
    assert client.get("/projets/HDH-2024-0001/versions?de=x").status_code == 400


def test_sponsor_ranking_shows_a_sponsor_with_one_overdue_project(app, client, register):
    with app.app_context():
        finished("HDH-2021-0007", "2023-02-01", title="Projet seul en retard",
                 sponsor="Association Solitaire", sponsor_kind="association")
    ranking = client.get("/statistiques").get_data(as_text=True).split('id="h-ranking"')[1]
    assert "Association Solitaire" in ranking


def test_sponsor_ranking_lists_a_sponsor_whose_result_was_only_late(app, client, register):
    with app.app_context():
        # Processing ended 2022-01-01: results due 2023-07-01, published 2023-09-01 (late).
        finished("HDH-2021-0008", "2022-01-01", title="Projet publié en retard",
                 sponsor="Fondation Tardive", sponsor_kind="association",
                 results=[{"kind": "article", "title": "Enfin publié",
                           "published_on": "2023-09-01"}])
        # One project with results on time: too few to be ranked.
        finished("HDH-2021-0009", "2022-01-01", title="Projet publié à temps",
                 sponsor="Fondation Ponctuelle", sponsor_kind="association",
                 results=[{"kind": "article", "title": "Publié à temps",
                           "published_on": "2023-03-01"}])
    ranking = client.get("/statistiques").get_data(as_text=True).split('id="h-ranking"')[1]
    assert "Fondation Tardive" in ranking
    assert "Fondation Ponctuelle" not in ranking


def test_statistics_has_charts_and_tables(client, register):
    html = client.get("/statistiques").get_data(as_text=True)
    assert html.count('<ul class="bar-chart"') == 4
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


SEARCHED = ["/projets?q=nouveau", "/api/v1/projects?q=nouveau", "/projets.csv?q=nouveau",
            "/projets.json?q=nouveau", "/projets.atom?q=nouveau", "/projets",
            "/api/v1/projects"]


@pytest.mark.parametrize("path", SEARCHED)
def test_search_backed_validators_follow_the_index(app, client, register, monkeypatch, path):
    from registry import search

    # The window between a commit and the index update: the database has the project, the
    # index does not yet.
    monkeypatch.setattr(search, "index_projects", lambda app, documents: None)
    with app.app_context():
        make_project("HDH-2024-0010", title="Un nouveau projet")
        project_id = queries.get_project(db.session, "HDH-2024-0010").id
    before = client.get(path)
    assert before.status_code == 200 and "HDH-2024-0010" not in before.get_data(as_text=True)
    with app.app_context():
        search.get_search_backend(app).index(documents.iter_search_documents(db.session,
                                                                           [project_id]))
    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "HDH-2024-0010" in after.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/projets?q=cancer", "/api/v1/projects",
                                  "/projets.csv?theme=oncologie"])
def test_a_rebuild_changes_the_validators(app, client, runner, register, monkeypatch, path):
    import registry.search.whoosh.store

    first = client.get(path)
    later = registry.search.whoosh.store.time.time_ns() + 86_400 * 10**9
    monkeypatch.setattr(registry.search.whoosh.store.time, "time_ns", lambda: later)
    assert runner.invoke(args=["registry", "reindex"]).exit_code == 0
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]}
                      ).status_code == 200
    # A page that does not come from a search keeps its validators.
    project = client.get("/projets/HDH-2024-0001")
    assert runner.invoke(args=["registry", "reindex"]).exit_code == 0
    assert client.get("/projets/HDH-2024-0001",
                      headers={"If-None-Match": project.headers["ETag"]}).status_code == 304


def test_a_current_listing_is_answered_without_listing_a_directory(client, register,
                                                                   monkeypatch):
    import os

    etag = client.get("/projets?q=cancer").headers["ETag"]

    def no_walk(*args, **kwargs):
        raise AssertionError("directory listed")

    monkeypatch.setattr(os, "listdir", no_walk)
    monkeypatch.setattr(os, "scandir", no_walk)
    assert client.get("/projets?q=cancer", headers={"If-None-Match": etag}).status_code == 304


CATALOGUE_PATHS = ["/sources", "/sources/DCIR", "/api/v1/sources", "/sources.jsonld",
                   "/en/sources"]


@pytest.mark.parametrize("path", CATALOGUE_PATHS)
def test_a_catalogue_change_reaches_the_pages_and_their_validators(app, client, runner,
                                                                   register, monkeypatch,
                                                                   path):
    from registry.catalogue import DATA_SOURCES

    first = client.get(path)
    dcir = next(spec for spec in DATA_SOURCES if spec["code"] == "DCIR")
    # A deployment with a new catalogue: new processes, then the set-up step.
    monkeypatch.setitem(dcir, "holder", "Caisse nationale renommée")
    app.extensions.pop("registry_code_version", None)
    result = runner.invoke(args=["registry", "sync-sources"])
    assert result.exit_code == 0 and "1 mise(s) à jour" in result.output, result.output
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Caisse nationale renommée" in again.text


def test_the_database_follows_the_catalogue_at_set_up(app, runner, register):
    from sqlalchemy import select

    from registry.models import DataSource

    with app.app_context():
        db.session.execute(DataSource.__table__.update().where(DataSource.code == "ESME")
                           .values(name="Ancien nom"))
        db.session.execute(DataSource.__table__.delete().where(DataSource.code == "E-MUST"))
        db.session.commit()
    result = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert result.exit_code == 0, result.output
    assert "1 créée(s), 1 mise(s) à jour" in result.output
    assert "Le catalogue des sources a changé : reconstruction" in result.output
    with app.app_context():
        names = dict(db.session.execute(select(DataSource.code, DataSource.name)).all())
        assert "E-MUST" in names and names["ESME"] != "Ancien nom"
        from registry.search import SearchQuery, get_search_backend

        # the renamed source is found under its new name (search keywords)
        word = names["ESME"].split()[0]
        assert get_search_backend(app).search(SearchQuery(text=word)).total >= 1
    again = runner.invoke(args=["registry", "sync-sources"])
    assert "0 créée(s), 0 mise(s) à jour" in again.output


def test_openapi_validators_follow_the_code(app, client, register, monkeypatch):
    from registry.opendata import openapi

    first = client.get("/api/v1/openapi.json")
    with app.app_context():
        from registry import service
        from tests.registry.factories import project_data

        service.save_project(db.session, project_data("HDH-2024-0042"), by="t")
        db.session.commit()
    # The register changed, the document did not: still current.
    assert client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    monkeypatch.setitem(openapi.RESULT, "description", "Un résultat publié")
    app.extensions.pop("registry_code_version", None)  # a deployment restarts the processes
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Un résultat publié" in again.text


def test_json_ld_health_conditions_are_diseases_only(app, client, register):
    with app.app_context():
        make_project("HDH-2024-0011", themes=["prevention", "parcours-de-soins",
                                              "pharmaco-epidemiologie", "cardiologie",
                                              "sante-mentale"])
    data = _json_ld(client.get("/projets/HDH-2024-0011").get_data(as_text=True))
    assert data["healthCondition"] == [
        {"@type": "MedicalCondition", "name": "Maladies cardiovasculaires"},
        {"@type": "MedicalCondition", "name": "Troubles psychiques"}]
    english = _json_ld(client.get("/en/projets/HDH-2024-0011").get_data(as_text=True))
    assert [c["name"] for c in english["healthCondition"]] == ["Cardiovascular diseases",
                                                               "Mental disorders"]


def test_organisation_pages_list_what_it_funds_or_controls(app, client, register):
    with app.app_context():
        make_project("HDH-2024-0012", title="Projet financé", funders=["Fonds Espoir"],
                     controller="Agence de contrôle")
        make_project("HDH-2024-0013", title="Projet contrôlé", controller="Fonds Espoir",
                     funders=["Fonds Espoir", "Agence de contrôle"])
    funder = client.get("/organisations/fonds-espoir").get_data(as_text=True)
    projects = funder.split("Ses projets")[1]
    assert "Projet financé" in projects and "Projet contrôlé" in projects
    assert re.search(r"Projet financé</a>\s*<span[^>]*>\(HDH-2024-0012, En cours\)</span>\s*"
                     r'<span class="role">Rôle : Financeur</span>', projects)
    assert "Rôle : Responsable de traitement, Financeur" in projects
    assert "<th scope=\"row\">Projets" not in funder  # no "Projets 0" record
    assert "n'est le promoteur d'aucun projet" in funder.replace("&#39;", "'")
    sponsor = client.get("/organisations/centre-hospitalier-universitaire-de-valmont").text
    assert "Rôle : Promoteur" in sponsor
    assert re.search(r"est le promoteur</th><td>5</td>", sponsor.replace("&#39;", "'"))
    english = client.get("/en/organisations/fonds-espoir").text
    assert "Role: Data controller, Funder" in english
    # The project page links its funders, and the site map lists their pages.
    assert 'href="/organisations/fonds-espoir"' in client.get("/projets/HDH-2024-0012").text
    assert "/organisations/fonds-espoir</loc>" in client.get("/sitemap.xml").text


def test_a_stored_non_web_address_is_never_a_link(app, client, register):
    from registry.models import Result

    with app.app_context():
        db.session.execute(Result.__table__.update().values(
            url="javascript:alert(document.cookie)", doi="javascript:alert(1)"))
        db.session.commit()
    html = client.get("/projets/HDH-2021-0004").get_data(as_text=True)
    assert "Dépression : résultats" in html
    assert "javascript:" not in html
    # Nor is it handed on as one in the open data, where another site may render it.
    for path in ("/projets.csv", "/projets.json", "/api/v1/projects/HDH-2021-0004"):
        body = client.get(path).get_data(as_text=True)
        assert "HDH-2021-0004" in body and "javascript:" not in body, path


def test_the_search_length_limit_is_one_number(client, register):
    document = client.get("/api/v1/openapi.json").json
    [q] = [p for p in document["paths"]["/projects"]["get"]["parameters"] if p["name"] == "q"]
    limit = q["schema"]["maxLength"]
    assert client.get(f"/api/v1/projects?q={'x' * limit}").status_code == 200
    refused = client.get(f"/api/v1/projects?q={'x' * (limit + 1)}")
    assert refused.status_code == 400
    assert f"au plus {limit} caractères" in refused.json["error"]["message"]
    assert f'name="q" value="" maxlength="{limit}"' in client.get("/projets").text


def test_atom_feed_title_describes_the_search_and_filters(client, register):
    feed = feedparser.parse(client.get(
        "/projets.atom?q=cancer&theme=oncologie&theme=pediatrie&statut=termine&source=ESME"
    ).data)
    assert feed.feed.title == ("Registre des projets – nouveautés (« cancer » · "
                               "Statut : Terminé · Thème : Cancers, Santé des enfants · "
                               "Source de données : " + _esme_name() + ")")
    assert feedparser.parse(client.get("/projets.atom").data).feed.title == \
        "Registre des projets – nouveautés"
    english = feedparser.parse(client.get("/en/projets.atom?retard=oui&ia=oui").data)
    assert english.feed.title.endswith("(Uses artificial intelligence: Yes · "
                                       "Late results: Results overdue)"), english.feed.title


def _esme_name() -> str:
    from registry.catalogue import DATA_SOURCES

    return next(s["name"] for s in DATA_SOURCES if s["code"] == "ESME")


def test_previous_page_beyond_the_last_is_the_last(client, register):
    html = client.get("/projets?par_page=1&page=50").get_data(as_text=True)
    pagination = html.split('class="pagination"')[1].split("</nav>")[0]
    assert 'href="?par_page=1&amp;page=4" rel="prev"' in pagination
    assert "page=49" not in pagination and 'aria-current="page"' not in pagination
    assert 'rel="next"' not in pagination
    links = client.get("/api/v1/projects?par_page=1&page=50").json["links"]
    assert links["prev"].endswith("par_page=1&page=4") and "next" not in links
