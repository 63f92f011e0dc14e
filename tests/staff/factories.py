"""Builders for back-office tests: accounts with a known second factor, and signing in
through the real pages (password, then a code from the secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.clock import utcnow
from core.extensions import db
from staff import accounts, totp
from staff.models import StaffUser
from tests.conftest import csrf_token_from

PASSWORD = "une phrase de passe assez longue"


@dataclass
class Staff:
    id: int
    email: str
    secret: str
    password: str = PASSWORD

    def code(self, offset_steps: int = 0) -> str:
        return totp.code_at(self.secret, utcnow() + timedelta(seconds=30 * offset_steps))


def make_staff(app, *roles: str, email: str = "", enrolled: bool = True,
               must_change: bool = False) -> Staff:
    """An account holding ``roles``, its password set, its second factor enrolled."""
    email = email or f"{'-'.join(roles) or 'aucun'}@sante.gouv.example"
    with app.app_context():
        user = accounts.create_account(db.session, email=email, name=f"Agent {email[:6]}",
                                       roles=list(roles), password=PASSWORD, by="test")
        user.must_change_password = must_change
        secret = ""
        if enrolled:
            secret = accounts.start_enrolment(db.session, user)
            user.totp_enabled = True
        db.session.commit()
        return Staff(user.id, email, secret)


def user(app, staff: Staff) -> StaffUser:
    with app.app_context():
        found = db.session.get(StaffUser, staff.id)
        db.session.expunge(found)
        return found


def post_login(client, email: str, password: str):
    page = client.get("/gestion/connexion")
    return client.post("/gestion/connexion", data={
        "csrf_token": csrf_token_from(page.data), "email": email, "password": password})


def post_code(client, code: str):
    page = client.get("/gestion/connexion/code")
    return client.post("/gestion/connexion/code", data={
        "csrf_token": csrf_token_from(page.data), "code": code})


def sign_in(client, staff: Staff, code: str | None = None):
    """Password then code; returns the last response (a redirect to the back-office)."""
    response = post_login(client, staff.email, staff.password)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    response = post_code(client, code or staff.code())
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


def post_form(client, path: str, data: dict | None = None, page: str | None = None):
    """POST to ``path`` with the CSRF token of ``page`` (``path`` by default)."""
    token = csrf_token_from(client.get(page or path).data)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def signed_in(app, client, staff: Staff):
    """Give ``client`` a complete session of ``staff`` without the sign-in pages (for tests
    about what a signed-in person may do, not about signing in)."""
    from staff import sessions
    from staff.auth import COOKIE

    with app.app_context():
        account = db.session.get(StaffUser, staff.id)
        row, token = sessions.open_session(db.session, account)
        row.second_factor_at = utcnow()
        db.session.commit()
    client.set_cookie(COOKIE, token, domain="localhost")
    return client
