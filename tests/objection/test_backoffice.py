"""The objection back-office: the review queue with its legal dates, the review (identity and
document opened only there, each opening audited; documents served as downloads only),
decisions mailed to the person and the document gone after them, withdrawal reviews, the
follow-up lock per connection and its unlocking by staff."""

from __future__ import annotations

import io
import re
import socket
import time
from datetime import date
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.extensions import db
from objection import service
from objection.models import Objection, ObjectionStatus, OutboxMail
from staff import audit
from tests.conftest import csrf_token_from, make_test_app
from tests.objection.factories import PDF, child_values, file_through_ui, hidden
from tests.staff.factories import make_staff, signed_in


def _file_for_child(client, **changes) -> str:
    """A parent files for their child, with a PDF: the filing's reference."""
    page = client.get("/opposition").get_data(as_text=True)
    values = child_values(**changes)
    review = client.post("/opposition", data={**values, **hidden(page),
                                              "document": (io.BytesIO(PDF), "livret.pdf")})
    assert review.status_code == 200, review.get_data(as_text=True)[:1500]
    sent = client.post("/opposition/envoyer", data={**values, **hidden(review.get_data(
        as_text=True)), "action": "envoyer"})
    assert sent.status_code == 303
    return sent.headers["Location"].rsplit("/", 1)[-1]


def _reviewer(app):
    staff = make_staff(app, "reviewer")
    return signed_in(app, app.test_client(), staff), staff


def _actions(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.action, e.actor, e.target) for e in audit.recent(db.session, limit=500)]


def test_the_queue_lists_filings_oldest_first_with_their_due_date(app, client, clock):
    clock.on(date(2026, 3, 2))
    first = _file_for_child(client)
    clock.on(date(2026, 3, 10))
    second = _file_for_child(app.test_client(), birth_name="Autrenom")
    clock.on(date(2026, 3, 30))
    reviewer, staff = _reviewer(app)
    html = reviewer.get("/gestion/oppositions/").get_data(as_text=True)
    assert html.index(first) < html.index(second)
    assert "2 avril" in html and "10 avril" in html
    assert "Reste 3 jours" in html  # due on 2 April: the warning
    assert "Zorglubienne" not in html and "Capucine" not in html  # no identity in the queue
    clock.on(date(2026, 4, 3))
    reviewer = signed_in(app, app.test_client(), staff)
    assert "En retard" in reviewer.get("/gestion/oppositions/").get_data(as_text=True)


def test_identity_and_document_are_shown_only_on_the_review_and_audited(app, client):
    reference = _file_for_child(client)
    reviewer, staff = _reviewer(app)
    page = reviewer.get(f"/gestion/oppositions/{reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Capucine" in html and "Jean Parent" in html and "philomene@exemple.fr" in html
    download = reviewer.get(f"/gestion/oppositions/{reference}/justificatif")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="justificatif-{reference}.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    with app.app_context():
        target = f"objection:{db.session.scalar(select(Objection.id))}"
    actions = _actions(app)
    assert ("objection.identity_viewed", f"staff:{staff.id}", target) in actions
    assert ("objection.document_viewed", f"staff:{staff.id}", target) in actions


def test_a_rejection_needs_a_reason_and_nothing_is_lost(app, client):
    reference = _file_for_child(client)
    reviewer, _ = _reviewer(app)
    page = reviewer.get(f"/gestion/oppositions/{reference}")
    response = reviewer.post(f"/gestion/oppositions/{reference}/decision", data={
        "csrf_token": csrf_token_from(page.data), "decision": "reject", "reason": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Donnez le motif du refus" in html
    assert 'id="decision-reject" name="decision" value="reject" checked' in html
    with app.app_context():
        assert db.session.scalar(select(Objection.status)) == "to_review"


def _decide(reviewer, reference: str, decision: str, reason: str = ""):
    page = reviewer.get(f"/gestion/oppositions/{reference}")
    return reviewer.post(f"/gestion/oppositions/{reference}/decision", data={
        "csrf_token": csrf_token_from(page.data), "decision": decision, "reason": reason})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.mark.smtp
def test_a_decision_is_mailed_and_the_document_and_identity_are_gone(database_url, tmp_path):
    from tests.conftest import _empty_tables

    port = _free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app = make_test_app(database_url, tmp_path / "instance", MAIL_SERVER="127.0.0.1",
                        MAIL_PORT=port, MAIL_TIMEOUT=5)
    try:
        reference = _file_for_child(app.test_client())
        uploads = Path(tmp_path / "instance" / "uploads")
        assert [p for p in uploads.glob("*.bin")]
        reviewer, staff = _reviewer(app)
        response = _decide(reviewer, reference, "reject",
                           "Le livret de famille joint ne mentionne pas l'enfant.")
        assert response.status_code == 303
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        status_mail = inbox.messages[-1].content.decode()
        assert "Refus" in status_mail and "ne mentionne pas l'enfant" in status_mail
        assert reference in status_mail and "Capucine" not in status_mail
        assert list(uploads.glob("*.bin")) == []  # the document is gone
        with app.app_context():
            objection = db.session.scalar(select(Objection))
            assert objection.status == ObjectionStatus.REJECTED
            assert objection.identity_sealed is None and objection.document_path is None
            events = [e for e in audit.recent(db.session) if e.action == "objection.status_changed"]
            assert events[0].actor == f"staff:{staff.id}"
            assert events[0].detail == {"from": "to_review", "to": "rejected", "reason": True}
            assert "livret" not in str(events[0].detail)
        assert reviewer.get(f"/gestion/oppositions/{reference}/justificatif").status_code == 404
    finally:
        controller.stop()
        app.extensions["database"]["engine"].dispose()
        _empty_tables(database_url)


def test_acceptance_verifies_and_tells_the_person(app, client):
    reference = _file_for_child(client)
    reviewer, _ = _reviewer(app)
    assert _decide(reviewer, reference, "accept").status_code == 303
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.status == ObjectionStatus.VERIFIED and objection.document_path is None
        mails = [m.subject for m in db.session.scalars(select(OutboxMail))]
        assert any("Vérifiée" in subject for subject in mails)
    again = _decide(reviewer, reference, "reject", "trop tard")
    assert again.status_code == 400 and "déjà été examinée" in again.get_data(as_text=True)


def test_a_status_change_and_its_audit_event_commit_together(app):
    with app.app_context():
        from objection.identity import parse_nir
        from objection.models import Filer, Scope
        from tests.objection.factories import CHILD_NIR_BODY, make_nir

        filing = service.file_objection(db.session, service.FilingInput(
            filer=Filer.CHILD, scope=Scope.GENERAL, project_reference=None,
            nir=parse_nir(make_nir(CHILD_NIR_BODY)), birth_name="X", first_names="Y",
            birth_date=date(2016, 5, 10), sex="F", email="p@exemple.fr",
            representative_name="Z", document=PDF), form_token="t")
        db.session.commit()
        service.change_status(db.session, filing.objection, ObjectionStatus.VERIFIED,
                              by="staff:9")
        db.session.rollback()
        assert not [e for e in audit.recent(db.session) if e.action.startswith("objection.")]
        assert db.session.scalar(select(Objection.status)) == "to_review"


def test_a_stranger_guessing_codes_no_longer_keeps_the_owner_out(app, client):
    location = file_through_ui(client).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    reference, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    stranger = app.test_client()

    def look_up(browser, typed, address):
        token = csrf_token_from(browser.get("/opposition/suivi").data)
        return browser.post("/opposition/suivi", data={
            "csrf_token": token, "reference": reference, "code": typed},
            environ_base={"REMOTE_ADDR": address})

    for _ in range(5):
        look_up(stranger, "AAAA-AAAA-AAAA", "203.0.113.9")
    assert look_up(stranger, code, "203.0.113.9").status_code == 429  # locked for the stranger
    owner = look_up(client, code, "198.51.100.7")
    assert owner.status_code == 200 and "Reçue" in owner.get_data(as_text=True)
    # on a shared connection the owner is locked out too: staff lift the lock
    for _ in range(5):
        look_up(stranger, "AAAA-AAAA-AAAA", "198.51.100.7")
    assert look_up(client, code, "198.51.100.7").status_code == 429
    reviewer, _staff = _reviewer(app)
    page = reviewer.get(f"/gestion/oppositions/{reference}")
    assert "2 connexions sont bloquées" in page.get_data(as_text=True)
    reviewer.post(f"/gestion/oppositions/{reference}/deverrouiller",
                  data={"csrf_token": csrf_token_from(page.data)})
    assert look_up(client, code, "198.51.100.7").status_code == 200
    assert "objection.followup_unlocked" in [a for a, _, _ in _actions(app)]


def test_staff_settle_the_review_of_a_linked_withdrawal(app, client, clock):
    from objection import retention

    clock.on(date(2025, 3, 3))
    first = file_through_ui(client).headers["Location"].rsplit("/", 1)[-1]
    second_client = app.test_client()
    location = file_through_ui(second_client, email="autre@exemple.fr").headers["Location"]
    html = second_client.get(location).get_data(as_text=True)
    second, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    token = csrf_token_from(second_client.get("/opposition/suivi").data)
    second_client.post("/opposition/suivi", data={"csrf_token": token, "reference": second,
                                                  "code": code, "action": "confirmer-retrait"})
    reviewer, _ = _reviewer(app)
    queue = reviewer.get("/gestion/oppositions/").get_data(as_text=True)
    assert second in queue and "retrait d'une demande liée" in queue
    page = reviewer.get(f"/gestion/oppositions/{second}")
    assert first in page.get_data(as_text=True)
    reviewer.post(f"/gestion/oppositions/{second}/retrait",
                  data={"csrf_token": csrf_token_from(page.data), "decision": "keep"})
    assert second not in reviewer.get("/gestion/oppositions/").get_data(as_text=True)
    with app.app_context():
        statuses = dict(db.session.execute(select(Objection.reference, Objection.status)).all())
        assert statuses == {first: "received", second: "withdrawn"}
        # nothing holds the yearly erasure any more
        clock.on(date(2026, 3, 4))
        assert retention.erase_withdrawn(db.session) == (1, [])


def test_lifting_withdraws_the_persons_objection(app, client):
    first = file_through_ui(client).headers["Location"].rsplit("/", 1)[-1]
    other = app.test_client()
    html = other.get(file_through_ui(other, email="b@exemple.fr").headers["Location"]
                     ).get_data(as_text=True)
    second, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    token = csrf_token_from(other.get("/opposition/suivi").data)
    other.post("/opposition/suivi", data={"csrf_token": token, "reference": second,
                                          "code": code, "action": "confirmer-retrait"})
    reviewer, _ = _reviewer(app)
    page = reviewer.get(f"/gestion/oppositions/{second}")
    reviewer.post(f"/gestion/oppositions/{second}/retrait",
                  data={"csrf_token": csrf_token_from(page.data), "decision": "lift"})
    with app.app_context():
        statuses = dict(db.session.execute(select(Objection.reference, Objection.status)).all())
        assert statuses == {first: "withdrawn", second: "withdrawn"}


def test_a_rejected_filing_is_erased_a_year_after_its_rejection(app, client, clock):
    from objection import retention

    clock.on(date(2025, 6, 2))
    reference = _file_for_child(client)
    reviewer, _ = _reviewer(app)
    _decide(reviewer, reference, "reject", "Justificatif illisible.")
    with app.app_context():
        clock.on(date(2026, 6, 1))
        assert retention.erase_withdrawn(db.session) == (0, [])
        clock.on(date(2026, 6, 2))
        assert retention.erase_withdrawn(db.session) == (1, [])
        db.session.commit()
        objection = db.session.scalar(select(Objection))
        assert retention.is_erased(objection) and objection.rejection_reason == ""
        assert objection.email_sealed == b""


def test_a_reviewer_opens_a_filing_by_reference(app, client):
    reference = _file_for_child(client)
    reviewer, _ = _reviewer(app)
    found = reviewer.get(f"/gestion/oppositions/recherche?reference={reference.lower()}")
    assert found.status_code == 303 and found.location.endswith(reference)
    missing = reviewer.get("/gestion/oppositions/recherche?reference=OPP-0000-0000-0")
    assert missing.status_code == 404 and "Aucune demande" in missing.get_data(as_text=True)


def test_the_due_date_warning_counts_calendar_days_in_france(app, client, clock):
    clock.on(date(2026, 1, 31))
    reference = _file_for_child(client)
    clock.on(date(2026, 2, 21))
    reviewer, staff = _reviewer(app)
    html = reviewer.get("/gestion/oppositions/").get_data(as_text=True)
    assert reference in html and "28 février" in html and "Reste 7 jours" in html
    clock.on(date(2026, 2, 20))
    reviewer = signed_in(app, app.test_client(), staff)
    assert "Reste" not in reviewer.get("/gestion/oppositions/").get_data(as_text=True)
