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


def _big_pdf(size: int) -> dict:
    return {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"x" * size}


def test_a_document_over_five_megabytes_is_refused_before_it_is_sent(live_server, page, axe):
    """With JavaScript, the size is checked as soon as the file is chosen: the message is next
    to the field, announced, and the file is unselected, so it is never uploaded."""
    page.goto(f"{live_server}/opposition")
    message = page.locator("#document-size-error")
    expect(message).to_be_hidden()
    page.set_input_files("#document", files=[_big_pdf(6 * 1024 * 1024)])
    expect(message).to_be_visible()
    expect(message).to_contain_text("plus de 5 Mo")
    assert page.eval_on_selector("#document", "input => input.files.length") == 0
    described = page.get_attribute("#document", "aria-describedby") or ""
    assert "document-size-error" in described.split()
    assert page.get_attribute("#document", "aria-invalid") == "true"
    _no_violation(page, axe)
    page.set_input_files("#document", files=[_big_pdf(1024)])  # a file within the limit
    expect(message).to_be_hidden()
    assert page.eval_on_selector("#document", "input => input.files.length") == 1
    assert page.get_attribute("#document", "aria-invalid") is None


def test_without_javascript_the_too_large_page_leads_back_to_the_answers(live_server,
                                                                         page_without_js,
                                                                         monkeypatch):
    """What the 413 page promises: the browser's Back button finds the answers still there.
    (The form's limit is lowered so the test need not upload 50 MB.)"""
    from objection import views

    monkeypatch.setattr(views, "FORM_MAX_REQUEST_BYTES", 1024 * 1024)
    page = page_without_js
    page.goto(f"{live_server}/opposition")
    page.get_by_label("Pour mon enfant mineur").check()
    page.get_by_label("Votre nom et votre prénom").fill("Jean Parent")
    page.get_by_label("Nom de naissance").fill("Testeuse")
    page.get_by_label("Votre adresse électronique").fill("alice@exemple.fr")
    page.set_input_files("#document", files=[_big_pdf(2 * 1024 * 1024)])
    page.get_by_role("button", name="Relire ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Le document joint est trop lourd")
    page.go_back()
    assert page.input_value("#representative_name") == "Jean Parent"
    assert page.input_value("#birth_name") == "Testeuse"
    assert page.input_value("#email") == "alice@exemple.fr"
    assert page.is_checked("#filer-child")
