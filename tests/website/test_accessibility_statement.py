"""The accessibility statement says what is true today: a known issue that the site has fixed
leaves the list, and what the tests check is what they check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.registry.factories import make_project

CONTENT = Path(__file__).resolve().parents[2] / "content"
BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"


def _statement(lang: str) -> str:
    return (CONTENT / lang / "accessibilite.md").read_text(encoding="utf-8")


def _known_issues(text: str) -> str:
    return text.split("## Contenus non accessibles" if "## Contenus" in text
                      else "## Non-accessible content")[1].split("\n## ")[0]


def test_french_names_are_marked_on_english_pages(app, client):
    """What made the first known issue (criterion 8.7): fixed, so no longer listed."""
    with app.app_context():
        make_project("HDH-2024-0001")
    for path in ("/en/projets", "/en/projets/HDH-2024-0001"):
        html = client.get(path).text
        names = re.findall(r'<a href="/en/organisations/[^"]+"([^>]*)>', html)
        assert names and all('lang="fr"' in attributes for attributes in names), path
    organisation = client.get("/en/organisations/centre-hospitalier-universitaire-de-valmont")
    assert '<h1 lang="fr">Centre hospitalier universitaire de Valmont</h1>' in organisation.text
    for lang, words in (("fr", "noms d'organismes"), ("en", "names of French bodies")):
        assert words not in _known_issues(_statement(lang)), lang


@pytest.mark.parametrize(("lang", "claim"), [
    ("fr", "chaque type de page reste lisible sur un écran de 320 pixels de large"),
    ("en", "every type of page stays readable on a screen 320 pixels wide"),
])
def test_the_checks_it_lists_are_the_tests(lang, claim):
    text = _statement(lang)
    assert claim in text
    assert "la page d'accueil reste lisible" not in text
    tests = (BROWSER_TESTS / "test_small_screens.py").read_text(encoding="utf-8")
    assert '"width": 320' in tests and "def test_every_page_type_reflows_at_320_px" in tests
    assert re.search(r"^updated: 2026-12-\d\d$", text, re.M)
