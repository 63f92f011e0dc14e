"""Two withdrawal confirmations at once (a double click): one withdrawal, one event, one mail,
the same "Retirée" page for both, and no database error at all (so none in a server log)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event, func, select

from core.extensions import db
from objection import views
from objection.models import Objection, ObjectionStatus, OutboxMail
from tests.conftest import make_test_app
from tests.objection.factories import file_through_ui, hidden


def _file(client) -> tuple[str, str]:
    html = client.get(file_through_ui(client).headers["Location"]).get_data(as_text=True)
    reference, code = re.findall(r"<strong>([^<]+)</strong>", html)[:2]
    return reference, code


def _shape(html: str) -> str:
    """The page with what changes from one rendering to the next (tokens) blanked."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def _double_click(app, monkeypatch) -> tuple[list[int], list[str], list[BaseException]]:
    """File, then send the withdrawal confirmation twice at once. Both requests have found the
    filing, still active, before either withdraws it (the lookup waits for the other), which is
    the interleaving that gave a 500 one time in three."""
    client = app.test_client()
    reference, code = _file(client)
    cookie = client.get_cookie("session").value
    token = hidden(client.get("/opposition/suivi").get_data(as_text=True))["csrf_token"]
    both_found = threading.Barrier(2, timeout=10)
    original = views.find_for_followup

    def find_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        both_found.wait()
        return found

    monkeypatch.setattr(views, "find_for_followup", find_then_wait)
    database_errors: list[BaseException] = []
    engine = app.extensions["database"]["engine"]

    def record_error(context) -> None:
        database_errors.append(context.original_exception)

    event.listen(engine, "handle_error", record_error)
    statuses: list[int] = []
    pages: list[str] = []
    failures: list[BaseException] = []

    def confirm() -> None:
        try:
            own = app.test_client()
            own.set_cookie("session", cookie)
            response = own.post("/opposition/suivi", data={
                "reference": reference, "code": code, "csrf_token": token,
                "action": "confirmer-retrait"})
            statuses.append(response.status_code)
            pages.append(response.get_data(as_text=True))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    event.remove(engine, "handle_error", record_error)
    assert not failures, failures
    return statuses, pages, database_errors


def _check(app, statuses, pages, database_errors) -> None:
    assert statuses == [200, 200]
    assert not database_errors, f"the database raised: {database_errors}"
    assert all("Retirée" in page and "Votre demande de retrait est enregistrée" in page
               for page in pages)
    assert _shape(pages[0]) == _shape(pages[1])  # the same page, whichever came second
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        assert objection.status == ObjectionStatus.WITHDRAWN
        assert [e.action for e in objection.events] == ["filed", "withdrawn"]
        assert db.session.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.kind == "withdrawal")) == 1


def test_a_double_click_on_the_withdrawal_gives_the_same_page_twice(app, monkeypatch):
    _check(app, *_double_click(app, monkeypatch))


@pytest.mark.postgres
def test_a_double_click_on_the_withdrawal_on_postgresql(postgres_url, tmp_path, monkeypatch):
    from tests.conftest import _empty_tables

    app = make_test_app(postgres_url, tmp_path)
    try:
        _check(app, *_double_click(app, monkeypatch))
    finally:
        app.extensions["database"]["engine"].dispose()
        _empty_tables(postgres_url)


def test_a_mail_queued_twice_for_one_event_is_written_once(app):
    """The outbox keeps one mail per event; a second one is skipped by the database
    (``ON CONFLICT DO NOTHING``), without a duplicate-key error."""
    from objection import mail

    client = app.test_client()
    _file(client)
    with app.app_context():
        objection = db.session.scalar(select(Objection))
        now = objection.created_at
        assert mail.queue(db.session, objection, "status", recipient="p@exemple.fr", now=now,
                          dedup="verified")
        assert not mail.queue(db.session, objection, "status", recipient="p@exemple.fr",
                              now=now, dedup="verified")
        db.session.commit()
        assert db.session.scalar(select(func.count(OutboxMail.id)).where(
            OutboxMail.kind == "status")) == 1
