"""Signing in to the back-office: password then second factor, refusals (wrong password,
wrong or replayed code, locked account), enrolment with recovery codes, sessions that end on
the server (logout, everywhere, idle, absolute), cookies, and the audit events of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from staff import audit, totp
from staff.auth import COOKIE, SECURE_COOKIE
from staff.models import StaffUser
from tests.conftest import csrf_token_from, make_test_app
from tests.staff.factories import (
    PASSWORD,
    make_staff,
    post_code,
    post_form,
    post_login,
    sign_in,
)

START = datetime(2026, 3, 16, 9, 0, 7, tzinfo=UTC)


def _actions(app) -> list[str]:
    with app.app_context():
        return [event.action for event in audit.recent(db.session, limit=200)][::-1]


def _trail_has_no_address(app) -> None:
    with app.app_context():
        for event in audit.recent(db.session, limit=500):
            assert "@" not in f"{event.actor}{event.target}{event.detail}"


def test_password_then_code_opens_the_back_office(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    assert client.get("/gestion/").status_code == 303
    response = post_login(client, staff.email, PASSWORD)
    assert response.status_code == 303 and response.location.endswith("/gestion/connexion/code")
    # the password alone opens nothing
    assert client.get("/gestion/").location.endswith("/gestion/connexion/code")
    assert post_code(client, staff.code()).location.endswith("/gestion/")
    page = client.get("/gestion/")
    assert page.status_code == 200 and "Espace de gestion" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert _actions(app)[-1] == "staff.login"
    _trail_has_no_address(app)


def test_a_wrong_password_is_refused_and_counted(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    response = post_login(client, staff.email, "pas le bon mot de passe")
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/gestion/").status_code == 303
    unknown = post_login(client, "personne@sante.gouv.example", PASSWORD)
    assert "Adresse électronique ou mot de passe incorrect" in unknown.get_data(as_text=True)
    assert _actions(app)[-2:] == ["staff.login_failed", "staff.login_failed"]
    _trail_has_no_address(app)


def test_a_wrong_code_is_refused(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "reviewer")
    post_login(client, staff.email, PASSWORD)
    wrong = "000000" if staff.code() != "000000" else "111111"
    response = post_code(client, wrong)
    assert response.status_code == 200 and "Code incorrect" in response.get_data(as_text=True)
    assert client.get("/gestion/").location.endswith("/gestion/connexion/code")


def test_a_code_is_accepted_once(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "reviewer")
    code = staff.code()
    sign_in(client, staff, code)
    post_form(client, "/gestion/deconnexion", page="/gestion/")
    clock.at(START + timedelta(seconds=10))  # same 30-second step: same code
    post_login(client, staff.email, PASSWORD)
    replay = post_code(client, code)
    assert replay.status_code == 200 and "déjà utilisé" in replay.get_data(as_text=True)
    # a code of the previous step (accepted for drift) is older than the one used: refused
    assert "Code incorrect" in post_code(client, staff.code(-1)).get_data(as_text=True)
    clock.at(START + timedelta(seconds=31))
    assert post_code(client, staff.code()).status_code == 303


def test_repeated_failures_lock_the_account_longer_each_time(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "editor")
    for _ in range(4):
        assert post_login(client, staff.email, "mauvais mot de passe").status_code == 200
    locked = post_login(client, staff.email, "mauvais mot de passe")
    assert locked.status_code == 429 and "bloqué" in locked.get_data(as_text=True)
    # the right password is refused while locked, and nothing more is counted
    assert post_login(client, staff.email, PASSWORD).status_code == 429
    clock.at(START + timedelta(seconds=61))
    wrong_again = post_login(client, staff.email, "mauvais mot de passe")
    assert wrong_again.status_code == 429  # sixth failure: locked again, for 2 minutes
    clock.at(START + timedelta(seconds=61 + 90))
    assert post_login(client, staff.email, PASSWORD).status_code == 429
    clock.at(START + timedelta(seconds=61 + 121))
    sign_in(client, staff)
    with app.app_context():
        account = db.session.get(StaffUser, staff.id)
        assert account.failed_logins == 0 and account.locked_until is None
    assert "staff.locked" in _actions(app)


def test_wrong_codes_lock_the_account_too(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "editor")
    post_login(client, staff.email, PASSWORD)
    wrong = "000000" if staff.code() != "000000" else "111111"
    for _ in range(4):
        assert post_code(client, wrong).status_code == 200
    response = post_code(client, wrong)
    assert response.status_code == 429
    assert client.get("/gestion/").status_code == 303  # the half-open session ended


def test_an_administrator_unlocks_an_account(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "editor")
    admin = make_staff(app, "admin", email="chef@sante.gouv.example")
    for _ in range(5):
        post_login(client, staff.email, "mauvais mot de passe")
    sign_in(client, admin)
    assert "Bloqué" in client.get("/gestion/comptes").get_data(as_text=True)
    post_form(client, f"/gestion/comptes/{staff.id}/debloquer", page=f"/gestion/comptes/{staff.id}")
    post_form(client, "/gestion/deconnexion", page="/gestion/")
    clock.at(START + timedelta(seconds=40))
    sign_in(client, staff)
    assert "staff.unlocked" in _actions(app)


def test_sessions_end_after_30_idle_minutes_and_12_hours_in_all(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    sign_in(client, staff)
    clock.at(START + timedelta(minutes=29))
    assert client.get("/gestion/").status_code == 200
    clock.at(START + timedelta(minutes=29 + 31))
    expired = client.get("/gestion/")
    assert expired.status_code == 303 and "expiree=1" in expired.location
    assert "Votre session a pris fin" in client.get(expired.location).get_data(as_text=True)
    clock.at(START + timedelta(hours=1))
    sign_in(client, staff)
    for minutes in range(20, 12 * 60, 20):  # used every 20 minutes all day long
        clock.at(START + timedelta(hours=1, minutes=minutes))
        assert client.get("/gestion/").status_code == 200
    clock.at(START + timedelta(hours=13, minutes=1))
    assert client.get("/gestion/").status_code == 303


def test_logout_ends_the_session_on_the_server(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    sign_in(client, staff)
    token = client.get_cookie(COOKIE).value
    response = post_form(client, "/gestion/deconnexion", page="/gestion/")
    assert response.status_code == 200 and "déconnecté" in response.get_data(as_text=True)
    assert client.get_cookie(COOKIE) is None
    client.set_cookie(COOKIE, token, domain="localhost")  # a copy of the old cookie
    assert client.get("/gestion/").status_code == 303
    assert "staff.logout" in _actions(app)


def test_logout_everywhere_ends_every_browser(app, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    office, laptop = app.test_client(), app.test_client()
    sign_in(office, staff)
    clock.at(START + timedelta(seconds=30))
    sign_in(laptop, staff)
    response = post_form(laptop, "/gestion/deconnexion-partout", page="/gestion/")
    assert "2 sessions ont été fermées" in response.get_data(as_text=True)
    assert office.get("/gestion/").status_code == 303
    assert laptop.get("/gestion/").status_code == 303


def test_each_sign_in_gets_a_new_session(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "admin")
    before = csrf_token_from(client.get("/gestion/connexion").data)
    sign_in(client, staff)
    first = client.get_cookie(COOKIE).value
    assert csrf_token_from(client.get("/gestion/").data) != before
    post_form(client, "/gestion/deconnexion", page="/gestion/")
    clock.at(START + timedelta(seconds=30))
    sign_in(client, staff)
    assert client.get_cookie(COOKIE).value != first


def test_cookie_is_http_only_strict_and_host_prefixed_over_https(database_url, tmp_path, clock):
    clock.at(START)
    app = make_test_app(database_url, tmp_path / "instance", SESSION_COOKIE_SECURE=True,
                        SITE_URL="https://localhost")
    try:
        staff = make_staff(app, "admin")
        client = app.test_client()
        base = "https://localhost"
        page = client.get(f"{base}/gestion/connexion")
        response = client.post(f"{base}/gestion/connexion", data={
            "csrf_token": csrf_token_from(page.data), "email": staff.email,
            "password": PASSWORD}, headers={"Referer": f"{base}/gestion/connexion"})
        header = next(value for value in response.headers.getlist("Set-Cookie")
                      if value.startswith(SECURE_COOKIE))
        for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
            assert attribute in header
        assert "Domain" not in header
    finally:
        app.extensions["database"]["engine"].dispose()


def test_enrolment_shows_the_secret_and_gives_recovery_codes(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "reviewer", enrolled=False)
    response = post_login(client, staff.email, PASSWORD)
    assert response.location.endswith("/gestion/double-authentification")
    assert client.get("/gestion/").status_code == 303
    page = client.get("/gestion/double-authentification").get_data(as_text=True)
    uri = page.split('otpauth://', 1)[1].split("<", 1)[0]
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    assert "issuer=" in uri and "period=30" in uri and "digits=6" in uri
    assert totp.grouped(secret) in page
    done = client.post("/gestion/double-authentification", data={
        "csrf_token": csrf_token_from(page), "code": totp.code_at(secret, START)})
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "codes de secours" in text
    codes = [c.split("</code>")[0] for c in text.split("<code>")[1:]]
    assert len(codes) == 10
    assert client.get("/gestion/").status_code == 200
    # a recovery code replaces the application's code, once
    post_form(client, "/gestion/deconnexion", page="/gestion/")
    post_login(client, staff.email, PASSWORD)
    assert post_code(client, codes[0].upper()).status_code == 303
    post_form(client, "/gestion/deconnexion", page="/gestion/")
    post_login(client, staff.email, PASSWORD)
    assert post_code(client, codes[0]).status_code == 200
    actions = _actions(app)
    assert "staff.second_factor_enrolled" in actions and "staff.recovery_code_used" in actions


def test_a_temporary_password_must_be_changed_first(app, client, clock):
    clock.at(START)
    staff = make_staff(app, "editor", must_change=True)
    sign_in(client, staff)
    assert client.get("/gestion/").location.endswith("/gestion/mot-de-passe")
    for new, message in (("court", "au moins 12 caractères"),
                         ("motdepasse2024!", "plus utilisés"),
                         ("editor-sante.gouv", "adresse électronique")):
        response = post_form(client, "/gestion/mot-de-passe",
                             {"current_password": PASSWORD, "new_password": new})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    wrong = post_form(client, "/gestion/mot-de-passe",
                      {"current_password": "faux", "new_password": "trois mots bien choisis"})
    assert "actuel est incorrect" in wrong.get_data(as_text=True)
    ok = post_form(client, "/gestion/mot-de-passe",
                   {"current_password": PASSWORD, "new_password": "trois mots bien choisis"})
    assert ok.status_code == 200 and client.get("/gestion/").status_code == 200


def test_the_first_administrator_comes_from_the_command_line(app, runner):
    result = runner.invoke(args=["staff", "create", "--email", "Premiere@Sante.Gouv.example",
                                 "--name", "Première Admin", "--password", "azerty"])
    assert result.exit_code == 1 and "12 caractères" in result.output
    result = runner.invoke(args=["staff", "create", "--email", "Premiere@Sante.Gouv.example",
                                 "--name", "Première Admin", "--password",
                                 "une longue phrase de passe"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(select(StaffUser))
        assert account.email == "premiere@sante.gouv.example" and account.roles == ["admin"]
        assert account.password_hash.startswith("$argon2id$")
        assert account.must_change_password and not account.totp_enabled


@pytest.mark.parametrize("password", ["123456789012", "Password123456", "azertyuiop!!",
                                      "soleil-soleil"])
def test_common_passwords_are_refused(password):
    from staff.passwords import problem

    assert problem(password) is not None


def test_rfc_6238_test_vectors():
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    for seconds, expected in ((59, "94287082"), (1111111109, "07081804"),
                              (1234567890, "89005924"), (2000000000, "69279037")):
        assert totp.hotp(secret, seconds // 30, digits=8) == expected
