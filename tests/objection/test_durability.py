"""What makes a receipt trustworthy: every connection the site opens commits durably."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from core.extensions import db
from objection.forms import FIELDS, ObjectionForm


def test_every_connection_commits_durably(app, database_url):
    with app.app_context():
        for _ in range(3):  # new pooled connections get the same settings
            with db.engine.connect() as connection:
                if database_url.startswith("sqlite"):
                    assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                    assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
                else:
                    assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"


@pytest.mark.postgres
def test_postgresql_connections_commit_synchronously(postgres_url, tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(postgres_url, tmp_path)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
    app.extensions["database"]["engine"].dispose()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the app is only read
@given(st.dictionaries(st.sampled_from(FIELDS), st.one_of(
    st.text(max_size=400), st.from_regex(r"[0-9]{1,40}", fullmatch=True))))
def test_any_input_gets_messages_never_an_exception(app, values):
    with app.test_request_context():
        form = ObjectionForm(MultiDict(values), None, project_lookup=lambda _ref: None)
        valid = form.validate()
        assert valid or form.errors
        assert all(isinstance(message, str) and message for message in form.errors.values())
