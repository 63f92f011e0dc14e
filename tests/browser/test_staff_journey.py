"""The staff journey in real Chromium: a parent files for their child with a document; a
reviewer signs in (password, then a TOTP code), opens the queue and the review, and accepts
the filing. With JavaScript, every page passes axe-core with no CSP error; without
JavaScript, the whole journey still works."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from werkzeug.serving import make_server

from core.extensions import db
from core.migrations import alembic_config
from objection.models import Objection
from staff import totp
from tests.conftest import make_test_app
from tests.objection.factories import PDF, make_nir
from tests.staff.factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser
RULES = {"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The site on a free port, on a database of its own (two reviewers are created in it)."""
    instance = tmp_path_factory.mktemp("staff-live")
    url = f"sqlite:///{instance / 'live.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url, instance)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    app.extensions["database"]["engine"].dispose()


def _file_for_a_child(page, base: str, first_names: str) -> None:
    page.goto(f"{base}/opposition")
    page.get_by_label("Pour mon enfant mineur").check()
    page.get_by_label("Votre nom et votre prénom").fill("Jean Parent")
    page.set_input_files("#document", files=[{"name": "livret.pdf",
                                              "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_label("À toute utilisation pour la recherche (opposition générale)").check()
    page.get_by_label("Numéro de sécurité sociale").fill(make_nir("2160575056123"))
    page.get_by_label("Nom de naissance").fill("Testeuse")
    page.get_by_label("Prénoms").fill(first_names)
    page.get_by_label("Jour").fill("10")
    page.get_by_label("Mois").fill("5")
    page.get_by_label("Année").fill("2016")
    page.get_by_label("Femme").check()
    page.get_by_label("Votre adresse électronique").fill("parent@exemple.fr")
    page.get_by_label("Je certifie").check()
    page.get_by_role("button", name="Relire ma demande").click()
    page.get_by_role("button", name="Confirmer et envoyer ma demande").click()
    expect(page.locator(".big-reference strong").first).to_be_visible()


def _review(page, base: str, app, email: str, secret: str, check) -> None:
    """Sign in, open the oldest filing, accept it; ``check(page)`` after each page."""
    page.goto(f"{base}/gestion/")
    check(page)  # the sign-in page
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    check(page)  # the code page
    page.get_by_label("Code").fill(totp.code_at(secret, datetime.now(UTC)))
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace de gestion")
    check(page)
    page.get_by_role("link", name="Oppositions : demandes à examiner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes à examiner")
    check(page)
    page.locator("table.data tbody a").first.click()
    expect(page.get_by_text("Identité (consultation enregistrée)")).to_be_visible()
    check(page)
    page.get_by_label("Accepter : l'opposition est vérifiée").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator(".notice")).to_contain_text("Décision enregistrée")
    check(page)


def test_the_review_journey_is_accessible(site, page):
    base, app = site
    axe = Axe()
    staff = make_staff(app, "reviewer", email="instructrice@sante.gouv.example")

    def check(current) -> None:
        results = axe.run(current, options=RULES)
        problems = [f"{v['id']}: {v['help']} → {[n['target'] for n in v['nodes'][:3]]}"
                    for v in results.response["violations"]]
        assert not problems, "\n".join(problems)
        assert not current.csp_errors, current.csp_errors

    _file_for_a_child(page, base, "Alice")
    _review(page, base, app, staff.email, staff.secret, check)


def test_the_review_journey_works_without_javascript(site, page_without_js):
    base, app = site
    staff = make_staff(app, "reviewer", email="instructeur@sante.gouv.example")
    _file_for_a_child(page_without_js, base, "Béatrice")
    _review(page_without_js, base, app, staff.email, staff.secret, lambda _page: None)
    with app.app_context():
        statuses = [o.status for o in db.session.query(Objection).order_by(Objection.id)]
        assert statuses and "to_review" not in statuses  # every filing reviewed
