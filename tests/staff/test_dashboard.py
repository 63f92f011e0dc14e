"""The audit trail's page (filters, pages, the chain checked on demand: an edited row is
named) and the dashboard (objections by status and scope, review delays, projects whose
results are overdue; numbers only, no personal data)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from core.extensions import db
from staff import audit
from tests.conftest import AUDIT_MIGRATION
from tests.objection.factories import PDF, child_values, file_through_ui, hidden
from tests.staff.factories import make_staff, signed_in


def _events(app, count: int) -> None:
    with app.app_context():
        for number in range(count):
            audit.record(db.session, "test.action" if number % 2 else "test.other",
                         actor=f"staff:{number % 3}", target=f"objection:{number}",
                         detail={"number": number},
                         at=datetime(2026, 3, 1 + number % 20, 12, tzinfo=UTC))
        db.session.commit()


def test_the_journal_lists_and_filters_events(app):
    _events(app, 120)
    admin = signed_in(app, app.test_client(), make_staff(app, "admin"))
    page = admin.get("/gestion/journal").get_data(as_text=True)
    assert page.count("<tr><th scope=\"row\">") == 50 and "Événements plus anciens" in page
    older = re.search(r'href="(/gestion/journal\?avant=\d+)"', page).group(1)
    assert admin.get(older).status_code == 200
    filtered = admin.get("/gestion/journal?action=test.other&acteur=staff:0").get_data(
        as_text=True)
    rows = re.findall(r"<td>(staff:\d)</td><td>(test\.\w+)</td>", filtered)
    assert rows and set(rows) == {("staff:0", "test.other")}
    dated = admin.get("/gestion/journal?du=2026-03-05&au=2026-03-05&action=test.action")
    assert "objection:" in dated.get_data(as_text=True)
    wrong = admin.get("/gestion/journal?du=hier")
    assert wrong.status_code == 400 and "Saisissez une date" in wrong.get_data(as_text=True)


@pytest.fixture
def without_triggers(app):
    engine = app.extensions["database"]["engine"]
    with engine.begin() as connection:
        AUDIT_MIGRATION["drop_triggers"](connection)
    yield
    with engine.begin() as connection:
        AUDIT_MIGRATION["create_triggers"](connection)


def test_an_edited_row_is_named_on_the_page_and_by_the_command(app, runner, without_triggers):
    _events(app, 6)
    admin = signed_in(app, app.test_client(), make_staff(app, "admin"))
    assert "Journal intact" in admin.get("/gestion/journal?verifier=1").get_data(as_text=True)
    with app.app_context():
        db.session.execute(text("UPDATE audit_events SET actor = 'staff:9' WHERE id = 4"))
        db.session.commit()
    page = admin.get("/gestion/journal?verifier=1").get_data(as_text=True)
    assert "Journal altéré : l'événement n° 4 ne correspond pas" in page
    assert "il a été modifié" in page
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "l'événement n° 4 ne correspond pas" in result.output


def test_the_dashboard_counts_without_personal_data(app, client, clock):
    from registry import service
    from tests.registry.factories import make_project

    clock.on(date(2026, 3, 2))
    page = client.get("/opposition").get_data(as_text=True)
    values = child_values()
    review = client.post("/opposition", data={**values, **hidden(page),
                                              "document": (io.BytesIO(PDF), "l.pdf")})
    client.post("/opposition/envoyer", data={**values, **hidden(review.get_data(as_text=True)),
                                             "action": "envoyer"})
    assert file_through_ui(app.test_client(), email="autre@exemple.fr").status_code == 303
    with app.app_context():
        make_project("HDH-2020-0001", status="termine", processing_ended_on="2023-01-31",
                     results=[])
        service.sync_data_sources(db.session)
        db.session.commit()
    clock.on(date(2026, 3, 20))
    staff = make_staff(app, "editor")
    dashboard = signed_in(app, app.test_client(), staff).get("/gestion/tableau-de-bord")
    html = dashboard.get_data(as_text=True)
    assert dashboard.status_code == 200
    received = re.search(r"<th scope=\"row\">Reçue</th><td>(\d+)</td><td>(\d+)</td>", html)
    to_review = re.search(r"<th scope=\"row\">En cours de vérification</th><td>(\d+)</td>", html)
    assert received.groups() == ("1", "0") and to_review.group(1) == "1"
    assert "la plus ancienne attend depuis 18 jours" in html
    assert "HDH-2020-0001" in html  # results due 31 July 2024, none published
    for personal in ("Capucine", "Zorglubienne", "philomene@exemple.fr", "Jean Parent"):
        assert personal not in html
