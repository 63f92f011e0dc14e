"""The whole objection journey in real Chromium, in French and English: every page a filer
meets (form with errors, review, receipt, follow-up, withdrawal) has no axe-core violation and
no Content-Security-Policy error."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.objection.factories import make_nir

pytestmark = pytest.mark.browser
RULES = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
LABELS = {
    "fr": {"self": "Pour moi-même",
           "general": "À toute utilisation pour la recherche (opposition générale)",
           "nir": "Numéro de sécurité sociale", "name": "Nom de naissance", "first": "Prénoms",
           "day": "Jour", "month": "Mois", "year": "Année", "woman": "Femme",
           "email": "Votre adresse électronique", "consent": "Je certifie",
           "review": "Relire ma demande", "send": "Confirmer et envoyer ma demande",
           "follow": "Suivre ma demande", "reference": "Référence", "code": "Code de suivi",
           "look": "Voir ma demande", "withdraw": "Retirer mon opposition",
           "confirm": "Oui, retirer mon opposition", "withdrawn": "Retirée"},
    "en": {"self": "For myself", "general": "All use for research (general objection)",
           "nir": "Social security number", "name": "Birth name", "first": "First names",
           "day": "Day", "month": "Month", "year": "Year", "woman": "Woman",
           "email": "Your e-mail address", "consent": "I certify",
           "review": "Review my request", "send": "Confirm and send my request",
           "follow": "Follow my request", "reference": "Reference", "code": "Follow-up code",
           "look": "See my request", "withdraw": "Withdraw my objection",
           "confirm": "Yes, withdraw my objection", "withdrawn": "Withdrawn"},
}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def _no_violation(page, axe) -> None:
    results = axe.run(page, options=RULES)
    problems = [f"{v['id']}: {v['help']} → {[n['target'] for n in v['nodes'][:3]]}"
                for v in results.response["violations"]]
    assert not problems, "\n".join(problems)
    assert not page.csp_errors, page.csp_errors


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_of_the_journey_is_accessible(live_server, page, axe, lang):
    text = LABELS[lang]
    prefix = "/en" if lang == "en" else ""
    page.goto(f"{live_server}{prefix}/opposition")
    _no_violation(page, axe)
    page.get_by_label(text["self"]).check()
    page.get_by_label(text["general"]).check()
    page.get_by_label(text["nir"]).fill(make_nir()[:-2] + "00")  # a wrong key
    page.get_by_role("button", name=text["review"]).click()
    expect(page.locator(".error-summary")).to_be_focused()
    _no_violation(page, axe)  # the form with its errors
    page.get_by_label(text["nir"]).fill(make_nir(f"2850375056{ord(lang[0]):03d}"))
    page.get_by_label(text["name"]).fill("Testeuse")
    page.get_by_label(text["first"]).fill("Alice")
    page.get_by_label(text["day"]).fill("14")
    page.get_by_label(text["month"]).fill("3")
    page.get_by_label(text["year"]).fill("1985")
    page.get_by_label(text["woman"]).check()
    page.get_by_label(text["email"]).fill("alice@exemple.fr")
    page.get_by_label(text["consent"]).check()
    page.get_by_role("button", name=text["review"]).click()
    expect(page.get_by_role("button", name=text["send"])).to_be_visible()
    _no_violation(page, axe)  # the review step
    page.get_by_role("button", name=text["send"]).click()
    reference = page.locator(".big-reference strong").first.inner_text()
    code = page.locator(".big-reference strong").nth(1).inner_text()
    _no_violation(page, axe)  # the receipt
    page.get_by_role("link", name=text["follow"]).click()
    _no_violation(page, axe)  # the follow-up form
    page.get_by_label(text["reference"]).fill(reference)
    page.get_by_label(text["code"]).fill(code)
    page.get_by_role("button", name=text["look"]).click()
    _no_violation(page, axe)  # the status page
    page.get_by_role("button", name=text["withdraw"]).click()
    _no_violation(page, axe)  # the confirmation
    page.get_by_role("button", name=text["confirm"]).click()
    expect(page.locator(".status-line")).to_contain_text(text["withdrawn"])
    _no_violation(page, axe)
