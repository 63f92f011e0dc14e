"""Every page type on a 320 px wide screen (WCAG 1.4.10 reflow), in real Chromium: no
horizontal scroll of the page, wide tables in a labelled region the keyboard can scroll, chart
labels big enough to read, and the register's results before its filters."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.objection.factories import make_nir

pytestmark = pytest.mark.browser
RULES = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
SMALL = {"width": 320, "height": 640}
PROJECT = "/projets/HDH-2024-8833"  # the demo (seed 2026, 80 projects): several versions
ENDED = "/projets/HDH-2019-0411"  # the demo's: ended ("terminé"), takes no objection
DEADLINE_PASSED = "/projets/HDH-2022-9135"  # the demo's: under way, objection deadline passed

# One page of each type, and the English version of the busiest ones (longer words).
PAGE_TYPES = [
    "/", "/en/", "/comprendre", "/comprendre/snds", "/comprendre/catalogue",
    "/en/comprendre/catalogue", "/comprendre/glossaire", "/vos-droits/opposition-facile-a-lire",
    "/a-propos/accessibilite", "/plan-du-site", "/page-inexistante", "/projets/HDH-2099-0001",
    "/projets", "/en/projets", "/projets?q=hopital&statut=termine", "/projets?q=zzyzx",
    "/projets?page=2", PROJECT, "/en" + PROJECT, PROJECT + "/versions?de=1&a=2",
    "/organisations/equinox-pharma", "/sources", "/sources/DCIR", "/statistiques",
    "/en/statistiques", "/statistiques?classement=nom", "/donnees-ouvertes", "/opposition",
    "/en/opposition", "/opposition?projet=HDH-2024-8833", "/opposition/suivi",
    ENDED + "/opposition", DEADLINE_PASSED + "/opposition", "/en" + ENDED + "/opposition",
    "/opposition/formulaire-papier", "/vos-droits", "/vos-droits/opposition",
    "/comprendre/questions-frequentes",
]
# The deliberate 404 pages; every other page must answer 200 (a demo project gone missing, or
# a page moved, fails here rather than checking the reflow of an error page).
NOT_FOUND = {"/page-inexistante", "/projets/HDH-2099-0001"}

# What a reader needs of a wide table: it scrolls inside a region that has a name and that
# the keyboard can reach (to scroll it with the arrow keys), never the whole page.
REFLOW_SCRIPT = """
() => {
  const problems = [];
  const width = document.documentElement.scrollWidth;
  if (width > 320) problems.push(`the page is ${width} px wide`);
  for (const table of document.querySelectorAll('table')) {
    const box = table.getBoundingClientRect();
    if (box.width === 0) continue;  // in a closed <details>
    let region = table.parentElement;
    while (region && !['auto', 'scroll'].includes(getComputedStyle(region).overflowX)) {
      region = region.parentElement;
    }
    const caption = table.caption ? table.caption.textContent.trim().slice(0, 40) : '?';
    if (!region) {
      if (box.right > 320) problems.push(`table "${caption}" overflows (${box.right} px)`);
      continue;
    }
    const named = region.getAttribute('aria-label') || region.getAttribute('aria-labelledby');
    if (region.getAttribute('tabindex') !== '0' || region.getAttribute('role') !== 'region'
        || !named) {
      problems.push(`table "${caption}" scrolls in a region without role, name or tabindex`);
    }
  }
  return problems;
}
"""


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def small_page(browser):
    context = browser.new_context(viewport=SMALL, locale="fr-FR")
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.csp_errors.append(msg.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()


def assert_reflows(page, axe) -> None:
    problems = page.evaluate(REFLOW_SCRIPT)
    assert not problems, f"{page.url}: {problems}"
    results = axe.run(page, options=RULES)
    violations = [f"{v['id']}: {v['help']} → {[n['target'] for n in v['nodes'][:3]]}"
                  for v in results.response["violations"]]
    assert not violations, f"{page.url}: {violations}"
    assert not page.csp_errors, page.csp_errors


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_every_page_type_reflows_at_320_px(live_server, small_page, axe, path):
    response = small_page.goto(live_server + path)
    assert response.status == (404 if path in NOT_FOUND else 200), path
    assert small_page.url == live_server + path  # the page itself, not one it redirected to
    assert_reflows(small_page, axe)


def test_the_objection_journey_reflows_at_320_px(live_server, small_page, axe):
    page = small_page
    page.goto(live_server + "/opposition")
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Relire ma demande").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_reflows(page, axe)  # the form with its errors
    page.get_by_label("Pour moi-même").check()
    page.get_by_label("À toute utilisation pour la recherche (opposition générale)").check()
    page.get_by_label("Numéro de sécurité sociale").fill(make_nir("2850375056320"))
    page.get_by_label("Nom de naissance").fill("Testeuse")
    page.get_by_label("Prénoms").fill("Alice")
    page.get_by_label("Jour").fill("14")
    page.get_by_label("Mois").fill("3")
    page.get_by_label("Année").fill("1985")
    page.get_by_label("Femme").check()
    page.get_by_label("Votre adresse électronique").fill("alice@exemple.fr")
    page.get_by_label("Je certifie").check()
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Relire ma demande").click()
    expect(page.get_by_role("button", name="Confirmer et envoyer ma demande")).to_be_visible()
    assert_reflows(page, axe)  # the review
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Confirmer et envoyer ma demande").click()
    reference = page.locator(".big-reference strong").first.inner_text()
    code = page.locator(".big-reference strong").nth(1).inner_text()
    assert_reflows(page, axe)  # the receipt
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("link", name="Suivre ma demande").click()
    page.get_by_label("Référence").fill(reference)
    page.get_by_label("Code de suivi").fill(code)
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Voir ma demande").click()
    assert_reflows(page, axe)  # the status
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Retirer mon opposition").click()
    assert_reflows(page, axe)  # the confirmation
    with page.expect_navigation():  # wait for the next page, not a half-loaded one
        page.get_by_role("button", name="Oui, retirer mon opposition").click()
    expect(page.locator(".status-line .badge")).to_have_text("Retirée")
    assert_reflows(page, axe)  # the withdrawn filing
    # Wrong codes lock the reference for this connection: the follow-up answers 429, a page of
    # its own (the form again, the reference kept, when to try again).
    page.goto(live_server + "/opposition/suivi")
    for _ in range(6):
        page.get_by_label("Référence").fill(reference)
        page.get_by_label("Code de suivi").fill("AAAA-AAAA")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Voir ma demande").click()
        if navigation.value.status == 429:
            break
    assert navigation.value.status == 429
    expect(page.get_by_text("Trop d'essais avec un code incorrect")).to_be_visible()
    assert_reflows(page, axe)  # too many requests


def test_the_register_shows_its_results_first_on_a_small_screen(live_server, small_page):
    page = small_page
    page.goto(live_server + "/projets")
    first = page.locator(".project-item").first.bounding_box()
    count = page.locator("#results-title").bounding_box()
    downloads = page.locator(".downloads").bounding_box()
    assert first["y"] < 1300, f"the first result is {first['y']} px down"  # was 4,018
    # the downloads sit with the count, above the list
    assert count["y"] < downloads["y"] < first["y"]
    assert page.locator(".facets details").count() == 1
    # a few Tab presses reach the first result (56 when the filters came first)
    link = page.locator(".project-item h3 a").first.get_attribute("href")
    presses = 0
    while page.evaluate("document.activeElement.getAttribute('href')") != link:
        presses += 1
        assert presses <= 20, "the first result is more than 20 Tab presses away"
        page.keyboard.press("Tab")


def test_a_skip_link_leads_to_the_results(live_server, page):
    page.goto(live_server + "/projets?q=cancer")
    page.keyboard.press("Tab")  # "Aller au contenu"
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Aller aux résultats")
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#resultats")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is in the results, not the search form
    assert page.evaluate("!!document.activeElement.closest('#resultats')")


def test_the_filters_fold_and_still_filter_without_javascript(live_server, browser):
    context = browser.new_context(viewport=SMALL, java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(live_server + "/projets")
        filters = page.locator(".facets details")
        expect(filters.locator("fieldset").first).to_be_hidden()
        filters.locator("summary").click()
        page.locator(".facets fieldset").first.locator("input").first.check()
        page.get_by_role("button", name="Appliquer les filtres").click()
        assert "/projets?" in page.url
        # with a filter chosen, the block comes back open, its choice visible
        expect(page.locator(".facets input:checked").first).to_be_visible()
    finally:
        context.close()


CHART_TEXT_SCRIPT = """
() => {
  const sizes = [];
  for (const figure of document.querySelectorAll('.chart-block figure')) {
    const walker = document.createTreeWalker(figure, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const element = walker.currentNode.parentElement;
      if (!walker.currentNode.textContent.trim() || element.closest('title, desc')) continue;
      if (element.closest('.visually-hidden')) continue;
      let size = parseFloat(getComputedStyle(element).fontSize);
      if (element instanceof SVGElement && element.getScreenCTM()) {
        size *= element.getScreenCTM().a;
      }
      sizes.push([size, walker.currentNode.textContent.trim()]);
    }
  }
  return sizes;
}
"""


def test_chart_labels_are_readable_at_320_px(live_server, small_page):
    small_page.goto(live_server + "/statistiques")
    sizes = small_page.evaluate(CHART_TEXT_SCRIPT)
    assert len(sizes) > 20
    small = [(round(size, 1), text) for size, text in sizes if size < 14]
    assert not small, f"chart text under 14 px: {small[:5]}"
    assert small_page.evaluate("document.documentElement.scrollWidth") <= 320
