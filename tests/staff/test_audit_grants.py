"""On PostgreSQL, the application's role can add audit events but not change or delete one:
the grants of docs/sql/postgresql-grants.sql (what docs/deploy.md tells operators to run),
applied to a migrated database and tried as that role."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from core.database import make_engine
from staff import audit

GRANTS = Path(__file__).resolve().parents[2] / "docs" / "sql" / "postgresql-grants.sql"
ROLE = "hdh_app"


def _as_owner(url: str, statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            # (roles belong to the server: the other pass may be making it at the same time)
            connection.exec_driver_sql(
                f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
            connection.exec_driver_sql(statements)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_applications_role_appends_to_the_audit_trail_and_cannot_rewrite_it(postgres_url):
    _as_owner(postgres_url, GRANTS.read_text("utf-8"))
    engine = make_engine(make_url(postgres_url).set(username=ROLE, password=None)
                         .render_as_string(hide_password=False))
    try:
        with Session(engine) as session:
            assert session.scalar(text("SELECT current_user")) == ROLE
            audit.record(session, "test.grants", actor="test")
            session.commit()
            assert audit.verify(session).ok
        for statement in ("UPDATE audit_events SET actor = 'someone else'",
                          "DELETE FROM audit_events", "TRUNCATE audit_events"):
            with engine.connect() as connection, pytest.raises(ProgrammingError) as refused:
                connection.exec_driver_sql(statement)
            assert "permission denied for table audit_events" in str(refused.value), statement
        # the other tables stay writable (the site deletes outbox rows, filings, sessions…)
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM outbox_mails")
    finally:
        engine.dispose()
