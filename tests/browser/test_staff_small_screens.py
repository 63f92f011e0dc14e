"""The back-office on a 320 px wide screen (WCAG 1.4.10 reflow), in real Chromium, for a member
of staff holding every role: no page scrolls sideways, and each wide table scrolls inside a
named region the keyboard can reach (the criterion of the public pages:
``test_small_screens.REFLOW_SCRIPT``), with no axe-core finding."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from core.clock import utcnow
from core.extensions import db
from core.migrations import alembic_config
from objection.exclusions import tokens
from registry.models import Organisation, Project
from staff import totp
from tests.browser.test_small_screens import SMALL, assert_reflows
from tests.conftest import make_test_app
from tests.objection.factories import PDF, child_values, hidden
from tests.staff.factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser

# Every main page of the back-office; {project}, {organisation}, {filing} and {account} are
# filled from the site's data.
STAFF_PAGES = [
    "/gestion/", "/gestion/comptes", "/gestion/comptes/nouveau", "/gestion/comptes/{account}",
    "/gestion/oppositions/", "/gestion/oppositions/{filing}", "/gestion/oppositions/nouvelle",
    "/gestion/oppositions/courriers", "/gestion/registre/",
    "/gestion/registre/projets/{project}", "/gestion/registre/projets/{project}/modifier",
    "/gestion/registre/projets/{project}/historique", "/gestion/registre/projets/nouveau",
    "/gestion/registre/organisations/{organisation}", "/gestion/journal",
    "/gestion/tableau-de-bord", "/gestion/plateforme/", "/gestion/mot-de-passe",
]


def _file_for_a_child(app) -> str:
    """A parent files for their child with a document (a filing to review): its reference."""
    client = app.test_client()
    values = child_values()
    review = client.post("/opposition", data={
        **values, **hidden(client.get("/opposition").get_data(as_text=True)),
        "document": (io.BytesIO(PDF), "livret-de-famille-de-la-famille-parent.pdf")})
    assert review.status_code == 200, review.get_data(as_text=True)[:1500]
    sent = client.post("/opposition/envoyer", data={
        **values, **hidden(review.get_data(as_text=True)), "action": "envoyer"})
    assert sent.status_code == 303
    return sent.headers["Location"].rsplit("/", 1)[-1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The site on a free port, on a database of its own: the demo register, a filing to
    review, a platform token, an account holding every role and another one."""
    instance = tmp_path_factory.mktemp("staff-small")
    url = f"sqlite:///{instance / 'live.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url, instance)
    result = app.test_cli_runner().invoke(args=["registry", "demo", "--count", "20"])
    assert result.exit_code == 0, result.output
    everything = make_staff(app, "editor", "reviewer", "admin",
                            email="agente-polyvalente@sante.gouv.example")
    other = make_staff(app, "editor", email="editeur-du-registre@sante.gouv.example")
    filing = _file_for_a_child(app)
    with app.app_context():
        tokens.create(db.session, name="Système d'extraction de la plateforme (recette)",
                      by="test", now=utcnow())
        db.session.commit()
        # the project with the most versions: the widest history and form
        project = max(db.session.scalars(select(Project)), key=lambda p: len(p.revisions))
        organisation = db.session.scalars(select(Organisation.slug)).first()
        values = {"project": project.reference, "organisation": organisation,
                  "filing": filing, "account": str(other.id), "email": everything.email,
                  "secret": everything.secret}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", values
    server.shutdown()
    app.extensions["database"]["engine"].dispose()


@pytest.fixture(scope="module")
def staff_page(site, browser):
    """A 320 px wide page signed in (password, then a code) as the member holding every role."""
    base, values = site
    context = browser.new_context(viewport=SMALL, locale="fr-FR")
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.csp_errors.append(msg.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in msg.text else None)
    page.goto(f"{base}/gestion/")
    page.get_by_label("Adresse électronique").fill(values["email"])
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code").fill(totp.code_at(values["secret"], datetime.now(UTC)))
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Espace de gestion")
    yield page
    context.close()


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_back_office_page_reflows_at_320_px(site, staff_page, axe, path):
    base, values = site
    response = staff_page.goto(base + path.format(**values))
    assert response.status == 200, path
    assert staff_page.url == base + path.format(**values)  # not sent back to the sign-in
    assert_reflows(staff_page, axe)


def test_a_new_platform_token_shown_once_reflows_at_320_px(site, staff_page, axe):
    base, _values = site
    page = staff_page
    page.goto(f"{base}/gestion/plateforme/")
    page.get_by_label("Nom du jeton").fill("Entrepôt de données du centre hospitalier")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Créer le jeton").click()
    assert navigation.value.status == 201
    assert_reflows(page, axe)  # the secret, shown once, fits the screen
