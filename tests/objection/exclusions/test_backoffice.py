"""The platform page of the back-office (administrators): a token is created with a name,
shown once and works at once; revoking it refuses the next call; the keys are shown by their
public identifiers only; the exclusion lists' freshness; errors in French, the form kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.extensions import db
from objection.exclusions.models import PlatformToken
from staff.audit import AuditEvent
from tests.conftest import csrf_token_from
from tests.objection.exclusions.factories import bearer
from tests.objection.factories import file_through_ui
from tests.staff.factories import make_staff, signed_in

PAGE = "/gestion/plateforme/"
API = "/api/platform/v1"


def _administrator(app):
    staff = make_staff(app, "admin", email="admin@sante.gouv.example")
    return signed_in(app, app.test_client(), staff), staff


def _create(admin, name: str):
    token = csrf_token_from(admin.get(PAGE).data)
    return admin.post(f"{PAGE}jetons", data={"csrf_token": token, "name": name})


def _text(response) -> str:
    """The page's text with plain spaces (Babel puts no-break spaces in "3 heures")."""
    return response.get_data(as_text=True).replace("\xa0", " ")


def _actions(app, prefix: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))


def test_a_token_created_on_the_page_is_shown_once_and_works(app, client):
    admin, staff = _administrator(app)
    response = _create(admin, "Plateforme — production")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    [secret] = re.findall(r'<code class="secret">(hdhp_[^<]+)</code>', html)
    assert "Il ne sera plus jamais affiché" in html
    # It works at once, and only its hash is kept.
    assert client.get(f"{API}/exclusions?after=0", headers=bearer(secret)).status_code == 204
    with app.app_context():
        stored = db.session.scalar(select(PlatformToken))
        assert secret not in (stored.token_hash, stored.name)
        assert stored.created_by == f"staff:{staff.id}"
    # The page shows it again without its secret, with its last call.
    listing = admin.get(PAGE).get_data(as_text=True)
    assert "Plateforme — production" in listing and secret not in listing
    assert "jamais" not in listing.split("Dernier appel", 1)[1].split("</tr>", 2)[1]
    [event] = _actions(app, "platform.token_created")
    assert event.actor == f"staff:{staff.id}"


def test_a_revoked_token_is_refused_at_the_next_call(app, client):
    admin, staff = _administrator(app)
    secret = re.search(r"hdhp_[^<]+", _create(admin, "essai").get_data(as_text=True)).group()
    with app.app_context():
        number = db.session.scalar(select(PlatformToken.id))
    token = csrf_token_from(admin.get(PAGE).data)
    response = admin.post(f"{PAGE}jetons/{number}/revoquer", data={"csrf_token": token})
    assert response.status_code == 303
    page = admin.get(response.location).get_data(as_text=True)
    assert f"Jeton n° {number} révoqué" in page
    assert "Révoqué le" in page
    assert client.get(f"{API}/exclusions?after=0", headers=bearer(secret)).status_code == 401
    [event] = _actions(app, "platform.token_revoked")
    assert (event.actor, event.target) == (f"staff:{staff.id}", f"platform:{number}")


def test_revoking_without_the_form_token_or_an_unknown_token_changes_nothing(app):
    admin, _ = _administrator(app)
    _create(admin, "essai")
    with app.app_context():
        number = db.session.scalar(select(PlatformToken.id))
    assert admin.post(f"{PAGE}jetons/{number}/revoquer").status_code == 400
    token = csrf_token_from(admin.get(PAGE).data)
    assert admin.post(f"{PAGE}jetons/999999/revoquer",
                      data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(PlatformToken.revoked_at)) is None
    assert _actions(app, "platform.token_revoked") == []


def test_a_token_without_a_name_or_with_a_long_one_gets_a_message_in_french(app):
    admin, _ = _administrator(app)
    response = _create(admin, "")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Donnez un nom au jeton" in html and 'aria-invalid="true"' in html
    long_name = "x" * 81
    html = _create(admin, long_name).get_data(as_text=True)
    assert "80 caractères au plus." in html and f'value="{long_name}"' in html
    with app.app_context():
        assert db.session.scalar(select(PlatformToken)) is None


def test_keys_are_shown_by_public_identifiers_only_and_development_keys_flagged(app):
    admin, _ = _administrator(app)
    html = admin.get(PAGE).get_data(as_text=True)
    for name in ("SECRET_KEY", "PSEUDONYM_KEYS", "IDENTITY_ENCRYPTION_KEYS",
                 "EXCLUSION_SIGNING_KEY"):
        setting = str(app.config.get(name) or "")
        for part in re.split(r"[,:]", setting):
            if len(part) >= 16:
                assert part not in html, f"a piece of {name} is on the page"
    with app.app_context():
        from objection import keys
        from objection.exclusions import escrow, signing

        assert signing.key_fingerprint() in html
        assert escrow.key_fingerprint() in html
        assert keys.keyring().current_id in html
    assert html.count("Clé de développement : à remplacer en production") == 3


def test_the_page_says_how_fresh_the_lists_are(app, client):
    admin, _ = _administrator(app)
    assert "aucune : tout est transmis" in admin.get(PAGE).get_data(as_text=True)
    file_through_ui(client)
    html = admin.get(PAGE).get_data(as_text=True)
    assert "Plus ancienne opposition pas encore transmise" in html
    assert "aucune : tout est transmis" not in html


def test_only_administrators_reach_the_page(app):
    for role in ("editor", "reviewer"):
        staff = make_staff(app, role, email=f"{role}@sante.gouv.example")
        other = signed_in(app, app.test_client(), staff)
        assert other.get(PAGE).status_code == 403, role


def test_every_member_of_staff_sees_on_the_dashboard_a_filing_waiting_too_long(app, client,
                                                                                clock):
    filed_at = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    clock.at(filed_at)
    staff = make_staff(app, "reviewer", email="instructeur@sante.gouv.example")
    reviewer = signed_in(app, app.test_client(), staff)
    dashboard = "/gestion/tableau-de-bord"
    assert "aucune : tout est transmis" in reviewer.get(dashboard).get_data(as_text=True)
    file_through_ui(client)
    clock.at(filed_at + timedelta(hours=3))  # (a new session: the first one went idle)
    html = _text(signed_in(app, app.test_client(), staff).get(dashboard))
    assert "en attente depuis 3 heures" in html
    assert "Plus de 24 heures" not in html
    clock.at(filed_at + timedelta(hours=25))
    html = _text(signed_in(app, app.test_client(), staff).get(dashboard))
    assert "en attente depuis 25 heures" in html
    assert "Plus de 24 heures : vérifiez l'export" in html
