"""The listing's search as citizens and re-users meet it: filtering by a named sponsor (pages,
API, exports, feed, the organisation's page) and the page that found nothing."""

from __future__ import annotations

import csv
import io
import re

import feedparser
import pytest
from jsonschema import Draft202012Validator

from registry.listing import parse_listing
from tests.registry.factories import make_project

VALMONT = "centre-hospitalier-universitaire-de-valmont"


@pytest.fixture
def register(app):
    """Three projects sponsored by a hospital (the factories' default sponsor), one by a
    company."""
    with app.app_context():
        make_project("HDH-2024-0001")  # the asthma of children
        make_project("HDH-2024-0002", title="Asthme et pollution à Lyon",
                     summary="Les crises d'asthme les jours de pollution.")
        make_project("HDH-2024-0003", title="Vaccination des adolescents",
                     summary="La couverture vaccinale au collège.", themes=["prevention"],
                     objective="Décrire la vaccination.", public_interest="Mieux vacciner.")
        make_project("HDH-2024-0004", title="Les hôpitaux face au cancer du sein",
                     summary="Les femmes soignées pour un cancer du sein.",
                     objective="Décrire les traitements.", public_interest="Mieux soigner.",
                     sponsor="Laboratoires Aurore", sponsor_kind="entreprise",
                     themes=["oncologie"])
    return app


def _references(html: str) -> list[str]:
    return sorted(re.findall(r'<h3><a href="/projets/(HDH-\d{4}-\d{4})"', html))


def test_a_named_sponsor_filters_the_listing(client, register):
    html = client.get(f"/projets?promoteur={VALMONT}").text
    assert _references(html) == ["HDH-2024-0001", "HDH-2024-0002", "HDH-2024-0003"]
    # shown among the criteria by its name, with a link that removes it
    assert re.search(r'<a href="\?">Promoteur : <span>Centre hospitalier universitaire de '
                     r'Valmont</span>', html)
    english = client.get(f"/en/projets?promoteur={VALMONT}").text
    assert re.search(r'Sponsor : <span lang="fr">Centre hospitalier universitaire de Valmont',
                     english)
    # the facets' form keeps it while other filters are chosen
    assert f'<input type="hidden" name="promoteur" value="{VALMONT}">' in html
    both = client.get(f"/projets?promoteur={VALMONT}&theme=prevention").text
    assert _references(both) == ["HDH-2024-0003"]
    assert _references(client.get("/projets?promoteur=laboratoires-aurore&q=asthme").text) \
        == []


def test_a_sponsor_may_be_named_by_its_name(client, register):
    html = client.get("/projets?promoteur=Laboratoires%20Aurore").text
    assert _references(html) == ["HDH-2024-0004"]


def test_old_links_with_a_sponsor_kind_still_filter_by_kind(client, register):
    old = client.get("/projets?promoteur=entreprise").text
    assert _references(old) == ["HDH-2024-0004"]
    assert _references(client.get("/projets?promoteur_type=entreprise").text) == \
        ["HDH-2024-0004"]
    # the page's own links now say promoteur_type
    assert 'name="promoteur_type" value="entreprise"' in old
    assert "Type de promoteur : Entreprise" in old
    assert parse_listing(_args(promoteur="hopital")).filters == {"sponsor_kind": ["hopital"]}


def _args(**values):
    from werkzeug.datastructures import MultiDict

    return MultiDict(values)


def test_a_named_sponsor_through_the_api_exports_and_feed(client, register):
    api = client.get(f"/api/v1/projects?promoteur={VALMONT}").json
    assert api["meta"]["total"] == 3
    assert f"promoteur={VALMONT}" in api["links"]["self"]
    document = client.get("/api/v1/openapi.json").json
    Draft202012Validator({**document["components"]["schemas"]["ProjectList"],
                          "components": document["components"]}).validate(api)
    parameters = {p["name"]: p for p in document["paths"]["/projects"]["get"]["parameters"]}
    assert "organisme" in parameters["promoteur"]["description"]
    assert "entreprise" in parameters["promoteur_type"]["schema"]["items"]["enum"]
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/projets.csv?promoteur={VALMONT}").data.decode("utf-8-sig")), delimiter=";"))
    assert sorted(r["reference"] for r in rows) == ["HDH-2024-0001", "HDH-2024-0002",
                                                    "HDH-2024-0003"]
    feed = feedparser.parse(client.get(f"/projets.atom?promoteur={VALMONT}&ia=non").data)
    assert feed.feed.title == ("Registre des projets – nouveautés (Promoteur : Centre "
                               "hospitalier universitaire de Valmont · Utilise l'intelligence "
                               "artificielle : Non)")


def test_the_organisation_page_links_to_its_projects_in_the_register(client, register):
    page = client.get(f"/organisations/{VALMONT}").text
    link = re.search(r'<a href="(/projets\?promoteur=[^"]+)">([^<]+)</a>', page)
    assert link and link.group(1) == f"/projets?promoteur={VALMONT}"
    assert "Voir dans le registre les 3 projets" in link.group(2).replace("&#39;", "'")
    assert len(_references(client.get(link.group(1)).text)) == 3
    english = client.get(f"/en/organisations/{VALMONT}").text
    assert f'href="/en/projets?promoteur={VALMONT}"' in english
    assert "See the 3 projects this organisation sponsors in the register" in english


def test_a_page_that_found_nothing_gives_tips_and_no_downloads(client, register):
    html = client.get("/projets?q=zzyzx").text
    assert "Aucun projet ne correspond" in html
    assert "Vérifiez l'orthographe des mots." in html
    assert "avec ou sans « HDH- »" in html
    for export in ("/projets.csv", "/projets.json", "/projets.atom", "Télécharger"):
        assert export not in html, export
    with_results = client.get("/projets?q=asthme").text
    assert "/projets.csv?q=asthme" in with_results and "Quelques pistes" not in with_results


def test_tips_offer_to_remove_each_filter(client, register):
    html = client.get("/projets?q=asthme&promoteur=laboratoires-aurore&statut=termine").text
    assert "Aucun projet ne correspond" in html
    tips = html.split('class="no-results"')[1].split("</div>")[0]
    assert 'href="?q=asthme&amp;statut=termine"' in tips  # without the sponsor
    assert 'href="?q=asthme&amp;promoteur=laboratoires-aurore"' in tips  # without the status
    assert 'href="?q=asthme">Chercher « asthme » sans aucun filtre' in tips
    assert _references(client.get("/projets?q=asthme").text) == ["HDH-2024-0001",
                                                                 "HDH-2024-0002"]


def test_tips_offer_the_spelling_suggestion(client, register):
    html = client.get("/projets?q=vacination").text
    tips = html.split('class="no-results"')[1].split("</div>")[0]
    assert 'Essayez avec cette orthographe : <a href="?q=vaccination">vaccination</a>' in tips
    assert "Vouliez-vous dire" not in html  # said once, among the tips
    assert "Utilisez moins de mots" not in tips  # one word
    english = client.get("/en/projets?q=vacination").text
    assert "Try this spelling:" in english and "Check the spelling of the words." in english
