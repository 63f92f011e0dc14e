"""The audit trail: appended in the change's transaction, chained by hashes, refused edits and
deletes, verified by ``flask audit verify`` (which names the first broken row), purged behind a
checkpoint from which it still verifies."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from core.extensions import db
from staff import audit
from tests.conftest import AUDIT_MIGRATION, make_test_app


def _append(count: int, start: datetime | None = None, step: timedelta = timedelta(days=1)):
    start = start or datetime(2025, 1, 1, 12, tzinfo=UTC)
    for number in range(count):
        audit.record(db.session, "test.action", actor="staff:1", target=f"objection:{number}",
                     detail={"number": number}, at=start + number * step)
    db.session.commit()


def test_events_form_one_chain(app):
    with app.app_context():
        _append(3)
        events = audit.recent(db.session, limit=10)[::-1]
        assert [e.id for e in events] == [1, 2, 3]
        assert events[0].previous_hash == audit.GENESIS
        assert events[1].previous_hash == events[0].hash
        assert audit.head(db.session) == (3, events[2].hash)
        assert audit.verify(db.session).ok


def test_an_event_goes_with_its_change_or_not_at_all(app):
    with app.app_context():
        _append(1)
        audit.record(db.session, "test.rolled_back", actor="staff:1")
        db.session.rollback()
        assert [e.action for e in audit.recent(db.session)] == ["test.action"]
        _append(1)
        assert audit.verify(db.session).ok and audit.head(db.session)[0] == 2


def test_the_database_refuses_to_change_or_delete_a_row(app):
    with app.app_context():
        _append(2)
        for statement in ("UPDATE audit_events SET actor = 'staff:2' WHERE id = 1",
                          "DELETE FROM audit_events WHERE id = 1"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert audit.verify(db.session).ok


@pytest.fixture
def without_triggers(app):
    """What a database administrator could do with the owner's rights: edit a row directly."""
    engine = app.extensions["database"]["engine"]
    with engine.begin() as connection:
        AUDIT_MIGRATION["drop_triggers"](connection)
    yield
    with engine.begin() as connection:
        AUDIT_MIGRATION["create_triggers"](connection)


@pytest.mark.parametrize(("statement", "broken", "reason"), [
    ("UPDATE audit_events SET detail = '{\"number\": 9}' WHERE id = 2", 2, "edited"),
    ("UPDATE audit_events SET actor = 'staff:7' WHERE id = 3", 3, "edited"),
    ("DELETE FROM audit_events WHERE id = 2", 2, "missing"),
    ("UPDATE audit_events SET previous_hash = hash WHERE id = 4", 4, "link"),
])
def test_an_altered_row_is_named_by_verify(app, runner, without_triggers, statement, broken,
                                           reason):
    with app.app_context():
        _append(5)
        db.session.execute(text(statement))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"l'événement n° {broken} ne correspond pas" in result.output
    with app.app_context():
        assert reason in audit.verify(db.session).reason


def test_verify_says_when_the_chain_holds(app, runner):
    with app.app_context():
        _append(4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "4 événement(s) vérifié(s)" in result.output


def test_purge_keeps_a_checkpoint_the_chain_verifies_from(app, runner, clock):
    start = datetime(2025, 1, 1, 12, tzinfo=UTC)
    with app.app_context():
        _append(10, start=start, step=timedelta(days=30))  # until 2025-09-28
    clock.at(datetime(2026, 6, 15, 12, tzinfo=UTC))  # a year before: 2025-06-15
    result = runner.invoke(args=["audit", "purge"])
    assert result.exit_code == 0 and "6 événement(s)" in result.output, result.output
    with app.app_context():
        remaining = [e.id for e in audit.recent(db.session, limit=100)][::-1]
        assert remaining == [7, 8, 9, 10, 11]  # 11: the checkpoint
        checkpoint = audit.recent(db.session, limit=1)[0]
        assert checkpoint.action == audit.CHECKPOINT and checkpoint.covers_through == 6
        assert audit.verify(db.session).ok
        # rows behind the checkpoint are gone; the newer ones are still protected
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_events WHERE id = 8"))
        db.session.rollback()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert "0 événement(s)" in runner.invoke(args=["audit", "purge"]).output


def test_a_gap_without_a_checkpoint_is_named(app, without_triggers):
    with app.app_context():
        _append(3)
        db.session.execute(text("DELETE FROM audit_events WHERE id = 1"))
        db.session.commit()
        result = audit.verify(db.session)
        assert result.broken_id == 2 and "no checkpoint" in result.reason


def test_no_personal_data_in_a_detail(app):
    with app.app_context():
        for detail in ({"nir": "185037580127657"}, {"to": "jean@exemple.fr"}):
            with pytest.raises(audit.PersonalDataInAudit):
                audit.record(db.session, "test", actor="staff:1", detail=detail)
        db.session.rollback()


def test_concurrent_writers_keep_one_chain(database_url, tmp_path):
    """Eight threads, each with its own transaction, appending at once: one chain, no gap."""
    app = make_test_app(database_url, tmp_path / "instance")
    errors = []

    def write(number: int) -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    audit.record(db.session, "test.concurrent", actor=f"staff:{number}")
                    db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with app.app_context():
            assert audit.head(db.session)[0] == 40
            assert audit.verify(db.session).checked == 40 and audit.verify(db.session).ok
    finally:
        app.extensions["database"]["engine"].dispose()
