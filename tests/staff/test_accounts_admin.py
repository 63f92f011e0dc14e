"""What an administrator relies on in the accounts pages (``/gestion/comptes``) and in
``flask staff unlock|reset-second-factor``: a new account sets itself up at its first sign-in,
bad input re-displays the form and creates nothing, roles and deactivation take effect at once
(the last administrator stays), unlocking, a lost second factor, a new temporary password
shown once; every change is an audit event naming the administrator and holding no secret."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from core.extensions import db
from staff import accounts, passwords, totp
from staff.audit import AuditEvent
from staff.models import RecoveryCode, StaffSession, StaffUser
from tests.conftest import csrf_token_from
from tests.staff.factories import (
    PASSWORD,
    make_staff,
    post_form,
    post_login,
    sign_in,
    signed_in,
)

START = datetime(2026, 3, 16, 9, 0, 7, tzinfo=UTC)
NEXT_STEP = timedelta(seconds=31)  # a new TOTP step: the same person may sign in again
NEW_EMAIL = "nouvelle.agente@sante.gouv.example"
TEMPORARY = "cinq mots pour un premier jour"
CHOSEN = "un autre choix bien personnel"
LAST_ADMIN = "C'est le dernier compte administrateur actif"


def _events(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        found = list(db.session.scalars(query))
        for event in found:
            db.session.expunge(event)
        return found


def _trail_holds_no_secret(app, *secrets: str) -> None:
    """No event holds a password, a TOTP secret (plain or grouped) or an e-mail address."""
    values = [value for secret in secrets if secret
              for value in {secret, secret.lower(), totp.grouped(secret)}]
    for event in _events(app):
        text = f"{event.actor} {event.action} {event.target} {event.detail}"
        assert "@" not in text and "argon2" not in text, text
        for value in values:
            assert value not in text, (event.action, text)


def _account(app, user_id: int) -> StaffUser:
    with app.app_context():
        found = db.session.get(StaffUser, user_id)
        db.session.expunge(found)
        return found


def _sessions(app, user_id: int) -> list[tuple[object, str | None]]:
    with app.app_context():
        return [(row.ended_at, row.ended_why) for row in db.session.scalars(
            select(StaffSession).where(StaffSession.user_id == user_id))]


def _secret_from_enrolment(page: str) -> str:
    uri = page.split("otpauth://", 1)[1].split("<", 1)[0]
    return uri.split("secret=", 1)[1].split("&", 1)[0]


def _enrol(client) -> str:
    """Enrol on the page shown after the password; returns the new secret."""
    page = client.get("/gestion/double-authentification").get_data(as_text=True)
    secret = _secret_from_enrolment(page)
    done = client.post("/gestion/double-authentification", data={
        "csrf_token": csrf_token_from(page), "code": totp.code_at(secret, utcnow())})
    assert done.status_code == 200 and "codes de secours" in done.get_data(as_text=True)
    return secret


def _row_of(listing: str, name: str) -> str:
    return next(row for row in listing.split("<tr>") if name in row)


# --------------------------------------------------------------------------- creating


def test_a_new_account_is_listed_and_sets_itself_up_at_first_sign_in(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    signed_in(app, client, admin)
    response = post_form(client, "/gestion/comptes/nouveau", {
        "email": " Nouvelle.Agente@Sante.Gouv.example ", "name": "Nouvelle  Agente",
        "roles": ["reviewer", "editor"], "password": TEMPORARY})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        created = db.session.scalar(select(StaffUser).where(StaffUser.email == NEW_EMAIL))
        assert created is not None and created.name == "Nouvelle Agente"
        assert sorted(created.roles) == ["editor", "reviewer"] and created.active
        assert created.must_change_password and not created.totp_enabled
        assert created.password_hash.startswith("$argon2id$")
        created_id = created.id
    assert response.location.endswith(f"/gestion/comptes/{created_id}?cree=1")
    assert "Compte créé" in client.get(response.location).get_data(as_text=True)
    row = _row_of(client.get("/gestion/comptes").get_data(as_text=True), "Nouvelle Agente")
    assert "Éditeur (registre)" in row and "Instructeur (oppositions)" in row
    assert "Administrateur" not in row and "Double authentification à activer" in row

    # The new person's first sign-in: nothing opens before both steps are done.
    person = app.test_client()
    first = post_login(person, NEW_EMAIL, TEMPORARY)
    assert first.status_code == 303
    assert first.location.endswith("/gestion/double-authentification")
    assert person.get("/gestion/").status_code == 303
    secret = _enrol(person)
    forced = person.get("/gestion/")
    assert forced.status_code == 303 and forced.location.endswith("/gestion/mot-de-passe")
    assert person.get("/gestion/tableau-de-bord").location.endswith("/gestion/mot-de-passe")
    changed = post_form(person, "/gestion/mot-de-passe",
                        {"current_password": TEMPORARY, "new_password": CHOSEN})
    assert changed.status_code == 200
    assert person.get("/gestion/").status_code == 200
    account = _account(app, created_id)
    assert not account.must_change_password and account.totp_enabled
    assert passwords.verify(account.password_hash, CHOSEN)

    created_events = [event for event in _events(app, "staff.account_created")
                      if event.target == f"staff:{created_id}"]
    assert len(created_events) == 1
    assert created_events[0].actor == f"staff:{admin.id}"
    assert created_events[0].detail == {"roles": ["editor", "reviewer"]}
    _trail_holds_no_secret(app, TEMPORARY, CHOSEN, secret, PASSWORD)


GOOD = {"email": NEW_EMAIL, "name": "Nouvelle Agente", "roles": ["editor"],
        "password": TEMPORARY}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"roles": []}, "roles", "Choisissez au moins un rôle."),
    ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse électronique valide."),
    ({"email": "Admin@Sante.Gouv.example"}, "email",
     "Un compte existe déjà avec cette adresse."),
    ({"password": "court"}, "password", "au moins 12 caractères"),
    ({"password": "motdepasse2024!"}, "password", "fait partie des plus utilisés"),
    ({"password": "nouvelle agente du lundi"}, "password",
     "ni votre adresse électronique ni votre nom"),
], ids=["no-role", "bad-email", "duplicate-email", "short-password", "common-password",
        "personal-password"])
def test_a_wrong_new_account_is_re_displayed_and_nothing_is_created(app, client, clock, changes,
                                                                     field, message):
    clock.at(START)
    admin = make_staff(app, "admin")
    signed_in(app, client, admin)
    typed = {**GOOD, **changes}
    response = post_form(client, "/gestion/comptes/nouveau", typed)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error is not None and message in error.group(1)
    assert "Il y a un problème" in page and f'<a href="#{field}">' in page
    if field == "roles":
        assert 'aria-describedby="roles-error"' in page
    else:
        field_input = re.search(rf'<input type="[a-z]+" id="{field}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in field_input
    # what was typed is kept (but never the password)
    assert f'value="{typed["email"]}"' in page and 'value="Nouvelle Agente"' in page
    for role in typed["roles"]:
        assert f'value="{role}" checked' in page
    assert f'value="{typed["password"]}"' not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 1
    assert [event for event in _events(app) if event.actor == f"staff:{admin.id}"] == []


# --------------------------------------------------------------------------- roles, active


def test_roles_change_and_a_deactivated_account_is_shut_out(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    editor = make_staff(app, "editor")
    office, laptop = app.test_client(), app.test_client()
    sign_in(office, editor)
    clock.at(START + NEXT_STEP)
    sign_in(laptop, editor)
    signed_in(app, client, admin)
    page = f"/gestion/comptes/{editor.id}"

    added = post_form(client, page, {"roles": ["editor", "reviewer"], "active": "y"})
    assert added.status_code == 200 and "Compte mis à jour." in added.get_data(as_text=True)
    assert sorted(_account(app, editor.id).roles) == ["editor", "reviewer"]
    assert office.get("/gestion/").status_code == 200  # a role change keeps the sessions
    same = post_form(client, page, {"roles": ["editor", "reviewer"], "active": "y"})
    assert "Rien n&#39;a changé." in same.get_data(as_text=True)

    removed = post_form(client, page, {"roles": ["editor", "reviewer"]})  # "active" unticked
    assert removed.status_code == 200 and "Compte mis à jour." in removed.get_data(as_text=True)
    assert not _account(app, editor.id).active
    # both browsers' sessions ended on the server, at the change itself
    ended = _sessions(app, editor.id)
    assert len(ended) == 2 and all(at is not None and why == "deactivated" for at, why in ended)
    assert office.get("/gestion/").status_code == 303
    assert laptop.get("/gestion/").status_code == 303
    clock.at(START + 2 * NEXT_STEP)
    refused = post_login(app.test_client(), editor.email, PASSWORD)
    assert refused.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in refused.get_data(as_text=True)
    assert "Désactivé" in _row_of(client.get("/gestion/comptes").get_data(as_text=True),
                                  f"Agent {editor.email[:6]}")

    updates = _events(app, "staff.account_updated")
    assert [(event.actor, event.target, event.detail) for event in updates] == [
        (f"staff:{admin.id}", f"staff:{editor.id}", {"roles": ["editor", "reviewer"]}),
        (f"staff:{admin.id}", f"staff:{editor.id}", {"active": False}),
    ]
    _trail_holds_no_secret(app, PASSWORD, editor.secret)


def test_the_last_administrator_cannot_lose_the_role(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    other = make_staff(app, "admin", email="seconde@sante.gouv.example")
    signed_in(app, client, admin)
    # with two administrators, one may go
    gone = post_form(client, f"/gestion/comptes/{other.id}", {"roles": ["admin"]})
    assert gone.status_code == 200 and not _account(app, other.id).active
    page = f"/gestion/comptes/{admin.id}"
    for data in ({"roles": ["editor"], "active": "y"},  # the role removed
                 {"roles": ["admin"]},                   # the account deactivated
                 {"roles": ["editor"]}):                 # both
        response = post_form(client, page, data)
        assert response.status_code == 400, data
        assert LAST_ADMIN in html.unescape(response.get_data(as_text=True))
        account = _account(app, admin.id)
        assert account.roles == ["admin"] and account.active
    assert client.get("/gestion/comptes").status_code == 200  # still an administrator
    assert [event.target for event in _events(app, "staff.account_updated")] == [
        f"staff:{other.id}"]


# --------------------------------------------------------------------------- unlocking


def test_unlocking_lets_a_locked_account_sign_in_again(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    editor = make_staff(app, "editor")
    person = app.test_client()
    for _ in range(5):
        post_login(person, editor.email, "mauvais mot de passe")
    assert post_login(person, editor.email, PASSWORD).status_code == 429
    signed_in(app, client, admin)
    page = f"/gestion/comptes/{editor.id}"
    assert "Bloqué" in _row_of(client.get("/gestion/comptes").get_data(as_text=True),
                               f"Agent {editor.email[:6]}")
    assert "Débloquer le compte" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/debloquer", page=page)
    assert response.status_code == 303 and response.location.endswith(page)
    assert "Débloquer le compte" not in client.get(page).get_data(as_text=True)
    account = _account(app, editor.id)
    assert account.failed_logins == 0 and account.locked_until is None
    sign_in(person, editor)  # the same minute: without the unlock, still locked
    assert person.get("/gestion/").status_code == 200
    unlocked = _events(app, "staff.unlocked")
    assert [(event.actor, event.target) for event in unlocked] == [
        (f"staff:{admin.id}", f"staff:{editor.id}")]
    _trail_holds_no_secret(app, PASSWORD, editor.secret)


# --------------------------------------------------------------------------- second factor


def test_resetting_the_second_factor_makes_the_person_enrol_again(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    reviewer = make_staff(app, "reviewer")
    with app.app_context():
        old_codes = accounts.new_recovery_codes(db.session, db.session.get(StaffUser,
                                                                           reviewer.id))
        db.session.commit()
    phone = app.test_client()
    sign_in(phone, reviewer)
    signed_in(app, client, admin)
    page = f"/gestion/comptes/{reviewer.id}"
    response = post_form(client, f"{page}/double-authentification", page=page)
    assert response.status_code == 303 and response.location.endswith(page)
    assert "pas encore activée" in client.get(page).get_data(as_text=True)
    account = _account(app, reviewer.id)
    assert not account.totp_enabled and account.totp_secret_sealed is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert [why for _at, why in _sessions(app, reviewer.id)] == ["second_factor_reset"]
    assert phone.get("/gestion/").status_code == 303

    clock.at(START + NEXT_STEP)
    person = app.test_client()
    response = post_login(person, reviewer.email, PASSWORD)
    assert response.location.endswith("/gestion/double-authentification")
    enrol_page = person.get("/gestion/double-authentification").get_data(as_text=True)
    token = csrf_token_from(enrol_page)
    # neither the old application's code nor an old recovery code opens anything
    for old in (reviewer.code(), old_codes[0]):
        at_code = person.post("/gestion/connexion/code", data={"csrf_token": token,
                                                               "code": old})
        assert at_code.status_code == 303
        assert at_code.location.endswith("/gestion/double-authentification")
        refused = person.post("/gestion/double-authentification",
                              data={"csrf_token": token, "code": old})
        assert refused.status_code == 200
        assert "Ce code ne correspond pas" in refused.get_data(as_text=True)
        assert person.get("/gestion/").status_code == 303
    new_secret = _secret_from_enrolment(enrol_page)
    assert new_secret != reviewer.secret
    _enrol(person)
    assert person.get("/gestion/").status_code == 200

    resets = _events(app, "staff.second_factor_reset")
    assert [(event.actor, event.target) for event in resets] == [
        (f"staff:{admin.id}", f"staff:{reviewer.id}")]
    _trail_holds_no_secret(app, PASSWORD, reviewer.secret, new_secret, *old_codes)


# --------------------------------------------------------------------------- temporary password


def test_a_new_temporary_password_is_shown_once_and_replaces_the_old_one(app, client, clock):
    clock.at(START)
    admin = make_staff(app, "admin")
    editor = make_staff(app, "editor")
    theirs = app.test_client()
    sign_in(theirs, editor)
    signed_in(app, client, admin)
    page = f"/gestion/comptes/{editor.id}"
    response = post_form(client, f"{page}/mot-de-passe", page=page)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    temporary = re.search(r'<code class="secret">([^<]+)</code>', text).group(1)
    assert len(temporary) >= 12
    assert temporary not in client.get(page).get_data(as_text=True)
    account = _account(app, editor.id)
    assert account.must_change_password
    assert temporary not in account.password_hash
    assert passwords.verify(account.password_hash, temporary)
    assert [why for _at, why in _sessions(app, editor.id)] == ["password"]
    assert theirs.get("/gestion/").status_code == 303

    clock.at(START + NEXT_STEP)
    person = app.test_client()
    old = post_login(person, editor.email, PASSWORD)
    assert old.status_code == 200
    assert "mot de passe incorrect" in old.get_data(as_text=True)
    sign_in(person, dataclasses.replace(editor, password=temporary))
    forced = person.get("/gestion/")
    assert forced.status_code == 303 and forced.location.endswith("/gestion/mot-de-passe")
    changed = post_form(person, "/gestion/mot-de-passe",
                        {"current_password": temporary, "new_password": CHOSEN})
    assert changed.status_code == 200 and person.get("/gestion/").status_code == 200

    by_admin = [event for event in _events(app, "staff.password_changed")
                if event.actor == f"staff:{admin.id}"]
    assert [(event.target, event.detail) for event in by_admin] == [
        (f"staff:{editor.id}", {"by_self": False})]
    _trail_holds_no_secret(app, PASSWORD, temporary, CHOSEN, editor.secret)


def test_a_drawn_password_the_rules_refuse_is_drawn_again(app, client, clock, monkeypatch):
    """The server's draw is random: one holding the person's name (or a common word) must be
    replaced, not end in an error page."""
    clock.at(START)
    admin = make_staff(app, "admin")
    editor = make_staff(app, "editor", email="dupont@sante.gouv.example")
    draws = iter(["xxdupont", "AbCd1234", "EfGh5678", "IjKl9012", "MnOp3456", "QrSt7890"])

    class Draws:
        @staticmethod
        def token_urlsafe(_nbytes: int) -> str:
            return next(draws)

    monkeypatch.setattr(accounts, "secrets", Draws)
    signed_in(app, client, admin)
    page = f"/gestion/comptes/{editor.id}"
    response = post_form(client, f"{page}/mot-de-passe", page=page)
    assert response.status_code == 200
    assert '<code class="secret">IjKl9012-MnOp3456-QrSt7890</code>' in response.get_data(
        as_text=True)
    assert passwords.verify(_account(app, editor.id).password_hash,
                            "IjKl9012-MnOp3456-QrSt7890")


# --------------------------------------------------------------------------- commands


def test_the_commands_unlock_and_reset_the_second_factor(app, runner, clock):
    clock.at(START)
    editor = make_staff(app, "editor")
    person = app.test_client()
    for _ in range(5):
        post_login(person, editor.email, "mauvais mot de passe")
    assert post_login(person, editor.email, PASSWORD).status_code == 429

    result = runner.invoke(args=["staff", "unlock", editor.email.upper()])
    assert result.exit_code == 0, result.output
    assert f"Compte n° {editor.id} débloqué." in result.output
    sign_in(person, editor)
    assert person.get("/gestion/").status_code == 200

    result = runner.invoke(args=["staff", "reset-second-factor", editor.email])
    assert result.exit_code == 0, result.output
    assert "réinitialisée" in result.output
    assert person.get("/gestion/").status_code == 303  # its session ended
    account = _account(app, editor.id)
    assert not account.totp_enabled and account.totp_secret_sealed is None
    clock.at(START + NEXT_STEP)
    again = post_login(app.test_client(), editor.email, PASSWORD)
    assert again.location.endswith("/gestion/double-authentification")

    for command in ("unlock", "reset-second-factor"):
        unknown = runner.invoke(args=["staff", command, "personne@sante.gouv.example"])
        assert unknown.exit_code == 1 and "Aucun compte avec cette adresse." in unknown.output
    assert [(event.action, event.actor, event.target) for event in _events(app)
            if event.actor == "cli"] == [
        ("staff.unlocked", "cli", f"staff:{editor.id}"),
        ("staff.second_factor_reset", "cli", f"staff:{editor.id}")]
    _trail_holds_no_secret(app, PASSWORD, editor.secret)
