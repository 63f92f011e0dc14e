"""Real Chromium: axe-core finds no violation, the skip link works, no CSP violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGES = [
    "/", "/en/", "/comprendre", "/en/comprendre", "/comprendre/snds", "/en/comprendre/snds",
    "/comprendre/glossaire", "/vos-droits", "/vos-droits/opposition",
    "/vos-droits/opposition-facile-a-lire", "/a-propos/accessibilite", "/plan-du-site",
    "/page-inexistante", "/en/page-inexistante", "/projets", "/en/projets", "/opposition",
    "/en/opposition", "/projets?q=hopital&statut=termine", "/projets?retard=oui",
    "/sources", "/sources/DCIR", "/statistiques", "/en/statistiques", "/donnees-ouvertes",
    "/opposition/suivi", "/comprendre/questions-frequentes",
    # the demo (seed 2026, 80 projects): a project with several versions, and its sponsor
    "/projets/HDH-2024-8833", "/en/projets/HDH-2024-8833", "/opposition?projet=HDH-2024-8833",
    "/projets/HDH-2024-8833/versions?de=1&a=2", "/organisations/equinox-pharma",
]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _describe(results) -> str:
    lines = []
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} → {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", PAGES)
def test_no_axe_violation(live_server, page, axe, path):
    response = page.goto(live_server + path)
    assert response.status == (404 if "inexistante" in path else 200)
    results = axe.run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                 "best-practice"]})
    assert results.violations_count == 0, _describe(results)
    assert page.csp_errors == [], page.csp_errors


def test_skip_link_is_first_and_moves_focus(live_server, page):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#contenu"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"


def test_language_switch_keeps_the_page(live_server, page):
    page.goto(live_server + "/comprendre/snds")
    page.get_by_role("link", name="English").click()
    assert page.url.endswith("/en/comprendre/snds")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_layout_reflows_on_a_small_screen(live_server, browser):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(live_server + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 320, "horizontal scrolling at 320 px (WCAG 1.4.10 reflow)"


def _first_project(live_server, page) -> str:
    page.goto(live_server + "/projets")
    return page.locator(".project-item h3 a").first.get_attribute("href")


def test_project_pages_have_no_axe_violation(live_server, page, axe):
    href = _first_project(live_server, page)
    for path in (href, href + "/versions?de=1&a=1"):
        assert page.goto(live_server + path).status == 200
        results = axe.run(page)
        assert results.violations_count == 0, _describe(results)
    page.goto(live_server + href)
    organisation = page.locator(".facts a[href*='/organisations/']").first.get_attribute("href")
    page.goto(live_server + organisation)
    results = axe.run(page)
    assert results.violations_count == 0, _describe(results)


def test_form_errors_are_accessible_and_the_summary_links_to_fields(live_server, page, axe):
    page.goto(live_server + "/opposition")
    page.get_by_role("button", name="Relire ma demande").click()
    summary = page.locator(".error-summary")
    # The focus moves once site.js has run: expect() waits for it instead of racing the script.
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    results = axe.run(page)
    assert results.violations_count == 0, _describe(results)
    summary.locator("a[href='#nir']").click()
    expect(page.locator("#nir")).to_be_focused()


def test_follow_up_sent_empty_asks_for_each_field_accessibly(live_server, page, axe):
    page.goto(live_server + "/opposition/suivi")
    page.get_by_role("button", name="Voir ma demande").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#code-error")).to_contain_text("Saisissez le code de suivi")
    results = axe.run(page)
    assert results.violations_count == 0, _describe(results)
    summary.locator("a[href='#code']").click()
    expect(page.locator("#code")).to_be_focused()


def _fill(page, nir: str) -> None:
    page.get_by_label("Pour moi-même").check()
    page.get_by_label("À toute utilisation pour la recherche (opposition générale)").check()
    page.get_by_label("Numéro de sécurité sociale").fill(nir)
    page.get_by_label("Nom de naissance").fill("Testeuse")
    page.get_by_label("Prénoms").fill("Alice")
    page.get_by_label("Jour").fill("14")
    page.get_by_label("Mois").fill("3")
    page.get_by_label("Année").fill("1985")
    page.get_by_label("Femme").check()
    page.get_by_label("Votre adresse électronique").fill("alice@exemple.fr")
    page.get_by_label("Je certifie").check()


def test_objection_journey_without_javascript(live_server, page_without_js):
    from tests.objection.factories import make_nir

    page = page_without_js
    page.goto(live_server + "/opposition")
    _fill(page, make_nir())
    page.get_by_role("button", name="Relire ma demande").click()
    assert "Relisez votre demande" in page.content()
    page.get_by_role("button", name="Confirmer et envoyer ma demande").click()
    assert "Votre demande est enregistrée" in page.content()
    reference = page.locator(".big-reference strong").first.inner_text()
    assert reference.startswith("OPP-")
