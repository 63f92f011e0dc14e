"""The back-office from its first day, in one piece, as issue 7 says it is done: an
administrator made by the command line enrols a second factor and creates an editor and a
reviewer; each of them changes the temporary password and enrols at first sign-in; the editor
publishes a project, which search then finds; a parent files for their child on the public
form; the reviewer accepts it and the parent's mail (through a real SMTP server on loopback)
says so. Every step goes through the pages a person would use."""

from __future__ import annotations

import email
import email.policy
import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.clock import utcnow
from core.extensions import db
from objection.models import Objection, ObjectionStatus
from registry import service
from staff import audit, totp
from staff.models import StaffUser
from tests.conftest import _empty_tables, csrf_token_from, make_test_app
from tests.objection.factories import PDF, child_values, hidden
from tests.objection.test_backoffice import Inbox, _free_port
from tests.registry.test_backoffice import FORM, REFERENCE

START = datetime(2026, 3, 16, 9, 0, 7, tzinfo=UTC)
ADMIN_PASSWORD = "une phrase de passe pour le service"


class Person:
    """One member of staff in their own browser."""

    def __init__(self, app, email: str, password: str):
        self.client = app.test_client()
        self.email, self.password = email, password
        self.secret = ""

    def post(self, path: str, data: dict, page: str | None = None):
        token = csrf_token_from(self.client.get(page or path).data)
        return self.client.post(path, data={"csrf_token": token, **data})

    def first_sign_in(self, clock, new_password: str) -> list[str]:
        """Password, then what the site asks on a first sign-in: enrol a second factor, then
        replace the temporary password. Returns the recovery codes the enrolment gave."""
        response = self.post("/gestion/connexion", {"email": self.email,
                                                    "password": self.password})
        assert response.location.endswith("/gestion/double-authentification"), \
            response.get_data(as_text=True)[:800]
        html = self.client.get("/gestion/double-authentification").get_data(as_text=True)
        uri = html.split("otpauth://", 1)[1].split("<", 1)[0]
        self.secret = uri.split("secret=", 1)[1].split("&", 1)[0]
        clock.at(utcnow() + timedelta(seconds=30))  # a time step no one has used yet
        done = self.client.post("/gestion/double-authentification", data={
            "csrf_token": csrf_token_from(html), "code": totp.code_at(self.secret, utcnow())})
        assert done.status_code == 200, done.get_data(as_text=True)[:800]
        codes = re.findall(r"<code>([^<]+)</code>", done.get_data(as_text=True))
        assert self.client.get("/gestion/").location.endswith("/gestion/mot-de-passe")
        changed = self.post("/gestion/mot-de-passe", {"current_password": self.password,
                                                      "new_password": new_password})
        assert changed.status_code == 200, re.findall(r"field-error.*",
                                                      changed.get_data(as_text=True))
        self.password = new_password
        assert self.client.get("/gestion/").status_code == 200
        return codes


def _mails_to(inbox: Inbox, address: str) -> list[tuple[str, str]]:
    """(subject, text) of each mail the SMTP server received for ``address``."""
    found = []
    for envelope in inbox.messages:
        if address in envelope.rcpt_tos:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            found.append((str(message["Subject"]), message.get_body().get_content()))
    return found


@pytest.mark.smtp
def test_from_the_first_administrator_to_an_accepted_objection_mailed_to_the_parent(
        database_url, tmp_path, clock):
    port = _free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app = make_test_app(database_url, tmp_path / "instance", MAIL_SERVER="127.0.0.1",
                        MAIL_PORT=port, MAIL_TIMEOUT=5)
    clock.at(START)
    try:
        with app.app_context():
            service.sync_data_sources(db.session)
            db.session.commit()
        # 1. The first administrator, from the command line.
        result = app.test_cli_runner().invoke(args=[
            "staff", "create", "--email", "admin@sante.gouv.example", "--name",
            "Première Admin", "--password", ADMIN_PASSWORD])
        assert result.exit_code == 0, result.output
        admin = Person(app, "admin@sante.gouv.example", ADMIN_PASSWORD)
        codes = admin.first_sign_in(clock, new_password="trois mots pour le service public")
        assert len(codes) == 10

        # 2. The administrator creates an editor and a reviewer.
        temporary = "un mot de passe provisoire solide"
        for email, name, role in (("editrice@sante.gouv.example", "Élise Éditrice", "editor"),
                                  ("instructeur@sante.gouv.example", "Igor Instructeur",
                                   "reviewer")):
            created = admin.post("/gestion/comptes/nouveau", {
                "email": email, "name": name, "roles": [role], "password": temporary})
            assert created.status_code == 303, created.get_data(as_text=True)[:800]
        listing = admin.client.get("/gestion/comptes").get_data(as_text=True)
        assert "Élise Éditrice" in listing and "Igor Instructeur" in listing

        # 3. The editor's first day: new password, second factor, a project published.
        editor = Person(app, "editrice@sante.gouv.example", temporary)
        editor.first_sign_in(clock, new_password="le registre doit rester exact")
        new = "/gestion/registre/projets/nouveau"
        assert editor.post(new, FORM).status_code == 303
        public = app.test_client()
        assert REFERENCE not in public.get("/projets?q=fémur").get_data(as_text=True)
        page = f"/gestion/registre/projets/{REFERENCE}"
        assert editor.post(f"{page}/publication", {"publier": "oui"}, page).status_code == 303
        assert REFERENCE in public.get("/projets?q=fémur").get_data(as_text=True)

        # 4. A parent objects for their child on the public form (a proxy filing: reviewed).
        form = public.get("/opposition").get_data(as_text=True)
        values = child_values(email="parent@exemple.fr")
        review = public.post("/opposition", data={**values, **hidden(form),
                                                  "document": (io.BytesIO(PDF), "livret.pdf")})
        assert review.status_code == 200, review.get_data(as_text=True)[:800]
        sent = public.post("/opposition/envoyer", data={
            **values, **hidden(review.get_data(as_text=True)), "action": "envoyer"})
        reference = sent.headers["Location"].rsplit("/", 1)[-1]

        # 5. The reviewer's first day: the filing is in the queue; accepted.
        reviewer = Person(app, "instructeur@sante.gouv.example", temporary)
        reviewer.first_sign_in(clock, new_password="chaque demande a sa réponse")
        queue = reviewer.client.get("/gestion/oppositions/").get_data(as_text=True)
        assert reference in queue
        decision = reviewer.post(f"/gestion/oppositions/{reference}/decision",
                                 {"decision": "accept"}, f"/gestion/oppositions/{reference}")
        assert decision.status_code == 303

        # 6. The parent's mail says so.
        deadline = time.monotonic() + 5
        while len(_mails_to(inbox, "parent@exemple.fr")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        mails = _mails_to(inbox, "parent@exemple.fr")
        assert len(mails) == 2, "the receipt, then the decision"
        subject, body = mails[-1]
        assert subject == f"Votre opposition {reference} : Vérifiée"
        assert "Le statut de votre demande a changé : Vérifiée." in body
        assert "Capucine" not in body and "Zorglubienne" not in body
        with app.app_context():
            objection = db.session.scalar(select(Objection))
            assert objection.status == ObjectionStatus.VERIFIED
            actors = {(e.action, e.actor) for e in audit.recent(db.session, limit=200)}
            ids = dict(db.session.execute(select(StaffUser.email, StaffUser.id)).all())
        # each step is attributed to whoever did it (ids as the database gave them: PostgreSQL
        # does not reuse them between tests)
        assert ("registry.project_published",
                f"staff:{ids['editrice@sante.gouv.example']}") in actors
        assert ("objection.status_changed",
                f"staff:{ids['instructeur@sante.gouv.example']}") in actors
    finally:
        controller.stop()
        app.extensions["database"]["engine"].dispose()
        _empty_tables(database_url)
