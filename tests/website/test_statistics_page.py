"""The statistics page as a citizen reads it: late sponsors first (and links to re-sort the
ranking, without JavaScript), chart labels in text, and hidden cells explained as they show."""

from __future__ import annotations

import re

import pytest

from core.extensions import db
from tests.registry.factories import finished

ON_TIME = [{"kind": "article", "title": "Publié", "published_on": "2024-02-01"}]


@pytest.fixture
def register(app):
    """Results due 2024-07-01 for every project (processing ended 2023-01-01)."""
    with app.app_context():
        # Université Alpha: 2 due, both on time (100 %)
        finished("HDH-2022-0001", "2023-01-01", ON_TIME, sponsor="Université Alpha",
                 sponsor_kind="recherche")
        finished("HDH-2022-0002", "2023-01-01", ON_TIME, sponsor="Université Alpha",
                 sponsor_kind="recherche")
        # Zénith Santé: 1 due, still awaited (0 %)
        finished("HDH-2022-0003", "2023-01-01", sponsor="Zénith Santé",
                 sponsor_kind="entreprise")
        # Bureau Moyen: 2 due, one on time, one still awaited (50 %)
        finished("HDH-2022-0004", "2023-01-01", ON_TIME, sponsor="Bureau Moyen",
                 sponsor_kind="association")
        finished("HDH-2022-0005", "2023-01-01", sponsor="Bureau Moyen",
                 sponsor_kind="association")
    return app


def _ranking(html: str) -> tuple[str, list[str]]:
    section = html.split('id="h-ranking"')[1].split("</section>")[0]
    caption = re.search(r"<caption[^>]*>([^<]+)</caption>", section).group(1)
    names = re.findall(r'<th scope="row"><a href="/(?:en/)?organisations/[^"]+"[^>]*>([^<]+)</a>',
                       section)
    return caption, names


def test_the_ranking_shows_late_sponsors_first(client, register):
    caption, names = _ranking(client.get("/statistiques").text)
    assert names == ["Zénith Santé", "Bureau Moyen", "Université Alpha"]
    assert caption == ("Promoteurs, de la plus faible à la plus forte part de résultats "
                       "publiés à temps")


@pytest.mark.parametrize(("order", "expected"), [
    ("a-temps", ["Université Alpha", "Bureau Moyen", "Zénith Santé"]),
    ("nom", ["Bureau Moyen", "Université Alpha", "Zénith Santé"]),
    ("attendus", ["Zénith Santé", "Bureau Moyen", "Université Alpha"]),
    ("retard", ["Zénith Santé", "Bureau Moyen", "Université Alpha"]),
    ("n-importe-quoi", ["Zénith Santé", "Bureau Moyen", "Université Alpha"]),
])
def test_the_reader_may_re_sort_the_ranking(client, register, order, expected):
    response = client.get(f"/statistiques?classement={order}")
    assert response.status_code == 200
    assert _ranking(response.text)[1] == expected


def test_the_sort_links_say_which_order_is_shown(client, register):
    html = client.get("/statistiques?classement=nom").text
    section = html.split('id="h-ranking"')[1].split("</section>")[0]
    links = re.findall(r'<li><a href="([^"]+)"( aria-current="true")?>([^<]+)</a></li>', section)
    assert [(href, label) for href, _, label in links] == [
        ("/statistiques#h-ranking", "les plus en retard d'abord"),
        ("/statistiques?classement=attendus#h-ranking",
         "le plus de résultats toujours attendus d'abord"),
        ("/statistiques?classement=a-temps#h-ranking", "les plus ponctuels d'abord"),
        ("/statistiques?classement=nom#h-ranking", "par ordre alphabétique"),
    ]
    assert [current for _, current, _ in links] == ["", "", "", ' aria-current="true"']
    # the table still says what it holds and how it is sorted
    assert '<th scope="col" aria-sort="ascending">Promoteur</th>' in section
    assert _ranking(html)[0] == "Promoteurs par ordre alphabétique"
    assert 'role="region" tabindex="0" aria-labelledby="ranking-caption"' in section
    english = client.get("/en/statistiques").text
    assert 'href="/en/statistiques?classement=nom#h-ranking">alphabetical order</a>' in english


def test_each_order_is_its_own_page_for_caches(client, register):
    default = client.get("/statistiques")
    by_name = client.get("/statistiques?classement=nom",
                         headers={"If-None-Match": default.headers["ETag"]})
    assert by_name.status_code == 200 and _ranking(by_name.text)[1][0] == "Bureau Moyen"
    assert client.get("/statistiques", headers={"If-None-Match": default.headers["ETag"]}
                      ).status_code == 304


def test_chart_labels_are_text_that_reflows(client, register):
    html = client.get("/statistiques").text
    charts = re.findall(r'<ul class="bar-chart" id="chart-(\w+)">(.*?)</ul>', html, re.S)
    assert [name for name, _ in charts] == ["year", "status", "theme", "source"]
    status = dict(re.findall(r'<span class="bar-label">([^<]+)</span> '
                             r'<span class="bar-value">(\d+)</span>', charts[1][1]))
    assert status["Terminé"] == "5"
    # no text drawn inside a picture (it shrank with it on a small screen), no inline style
    assert "<text" not in html and " style=" not in html
    assert re.search(r'<svg class="bar" aria-hidden="true" focusable="false">'
                     r'<rect width="100.0%" height="100%"', charts[1][1])


def test_hidden_cells_are_explained_as_they_show(app, client, register):
    from objection.models import FilingCount

    with app.app_context():
        # 12 women and 3 men: the men's cell is under 10, so the women's is hidden too
        db.session.add_all([
            FilingCount(month_filed="2026-11", age_band="30-44", sex="F", filings=12),
            FilingCount(month_filed="2026-11", age_band="45-59", sex="M", filings=3)])
        db.session.commit()
    html = client.get("/statistiques").text
    section = html.split('id="h-objections"')[1].split("</section>")[0]
    sexes = section.split("Demandes par sexe")[1].split("</table>")[0]
    assert sexes.count("<td>masqué</td>") == 2
    # the text names what the cells say, and that a hidden cell may hold 10 or more
    assert "une case des tableaux indique « masqué »" in section
    assert "même s'il atteint 10" in section
    english = client.get("/en/statistiques").text
    assert "a table cell says “hidden”" in english
