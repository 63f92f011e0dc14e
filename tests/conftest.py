"""Fixtures shared by every test: an app on a migrated database, a client, a CLI runner.

The database is SQLite by default. With ``TEST_DB_BACKEND=postgresql`` the whole suite runs on
``TEST_DATABASE_URL`` instead (``make test`` does both passes when that variable is set).
Tests that need PostgreSQL whatever the pass take the ``postgres_url`` fixture: without a
reachable server they are skipped with a printed reason, except in CI, where they fail.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import runpy
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, make_url, text

from core.clock import SITE_TIME_ZONE, frozen_at
from core.database import Base, make_engine
from core.migrations import alembic_config
from tests.personal_data import WATCH
from website.app import create_app
from website.tables import import_models

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
AUDIT_MIGRATION = runpy.run_path(str(Path(__file__).resolve().parents[1] / "migrations"
                                     / "versions" / "0006_audit_trail.py"))
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                        r'name="csrf_token" value="([^"]+)"')


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> str:
    """The PostgreSQL URL for a test that needs it; skip loudly, or fail in CI, without it."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    problem = "TEST_DATABASE_URL is not set" if not url else _postgres_reachable(url)
    if problem:
        message = f"PostgreSQL needed but unavailable ({problem})"
        if IN_CI:
            pytest.fail(message + " — CI must not skip this test", pytrace=False)
        pytest.skip(message)
    return url


def _on_postgres_pass() -> bool:
    return os.environ.get("TEST_DB_BACKEND") == "postgresql"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database (``TEST_REDIS_URL``, db 15 by default), emptied again after the
    test; skipped loudly without Redis, and a failure in CI. The PostgreSQL pass, which runs at
    the same time as the SQLite pass, takes the database numbered one less."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if _on_postgres_pass():
        base, _, number = url.rpartition("/")
        url = f"{base}/{int(number or 0) - 1}"
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.ping()
        connection.flushdb()
    except Exception as exc:
        message = f"Redis needed but unreachable at {url}: {exc}"
        if IN_CI:
            pytest.fail(message + " — CI must not skip this test", pytrace=False)
        pytest.skip(message)
    yield url
    connection.flushdb()


def _reset_schema(url: str) -> None:
    if url.startswith("postgres"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if _on_postgres_pass():
        url = require_postgres()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    _reset_schema(url)
    return url


def _database_beside(url: str, suffix: str) -> str:
    """A database named after ``url``'s with ``suffix``, on the same server, created if missing."""
    main = make_url(url)
    beside = main.set(database=f"{main.database}{suffix}")
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": beside.database})
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{beside.database}"')
    finally:
        engine.dispose()
    return beside.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A migrated PostgreSQL database, for tests that must run on PostgreSQL in every pass.
    On the SQLite pass it is a database of its own (``<name>_sqlite_pass``), so that the
    PostgreSQL pass can run at the same time on ``TEST_DATABASE_URL`` without either emptying
    the other's tables."""
    url = require_postgres()
    if not _on_postgres_pass():
        url = _database_beside(url, "_sqlite_pass")
    _reset_schema(url)
    return url


def _objection_tables() -> list:
    return [mapper.local_table for mapper in Base.registry.mappers
            if mapper.class_.__module__.startswith("objection.")]


_CLEANING_ENGINES: dict[str, Engine] = {}


def _empty_tables(url: str) -> None:
    """Empty every table; first, hand the objection tables' rows to the personal-data watch.
    The audit trail refuses deletes (its triggers): they are set aside while it is emptied
    (on PostgreSQL, by replica mode for this transaction only). One engine per database serves
    every test: a new connection per test cost more than the cleaning."""
    engine = _CLEANING_ENGINES.get(url)
    if engine is None:
        engine = _CLEANING_ENGINES[url] = make_engine(url)
    postgres = url.startswith("postgres")
    with engine.begin() as connection:
        for table in _objection_tables():
            WATCH.add_rows(f"table {table.name} ({url.split(':')[0]})",
                           connection.execute(table.select()))
        if postgres:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            AUDIT_MIGRATION["drop_triggers"](connection)
        existing = set(inspect(connection).get_table_names())
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing:
                connection.execute(table.delete())
        if not postgres:
            AUDIT_MIGRATION["create_triggers"](connection)


def _dispose_cleaning_engines() -> None:
    """Closing the last connection folds SQLite's write-ahead log into the database and removes
    it, as each test's own engine does: the log keeps pages of rows long deleted (with dates
    that can match a birth date submitted elsewhere), which the whole-run search would read."""
    while _CLEANING_ENGINES:
        _CLEANING_ENGINES.popitem()[1].dispose()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.nodeid == FINAL_TEST:
        _dispose_cleaning_engines()


def pytest_sessionfinish() -> None:
    _dispose_cleaning_engines()


def _record_identity() -> None:
    """Every identity a test app receives, through the test client or a browser driving the live
    server, goes to the personal-data watch (tests/personal_data.py)."""
    from flask import request

    if request.method == "POST" and "nir" in request.form:
        WATCH.record_form(request.form.to_dict())


def make_test_app(database_url: str, instance: Path, **overrides):
    config = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "INSTANCE_DIR": str(instance),
        "SEARCH_INDEX_DIR": str(instance / "search"),
        "MAIL_OUTBOX_DIR": str(instance / "mail"),
        "SITE_URL": "http://localhost",
    }
    config.update(overrides)
    application = create_app(config)
    application.before_request_funcs.setdefault(None, []).insert(0, _record_identity)
    return application


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator:
    import_models()
    application = make_test_app(database_url, tmp_path / "instance")
    yield application
    gc.collect()  # sessions nothing closed give their connections back before the pool goes
    application.extensions["database"]["engine"].dispose()
    _empty_tables(database_url)


class FrozenClock:
    """The site's clock, set by a test (``core.clock.frozen_at``): every "now" and "today" of
    every package follows it until the test ends."""

    def __init__(self) -> None:
        self._frozen: contextlib.AbstractContextManager | None = None

    def at(self, moment: datetime) -> None:
        """Make it ``moment`` (an aware datetime)."""
        self.stop()
        self._frozen = frozen_at(moment)
        self._frozen.__enter__()

    def on(self, day: date, hour: int = 12) -> None:
        """Make it ``day`` in France, at ``hour`` (noon by default)."""
        self.at(datetime.combine(day, time(hour), SITE_TIME_ZONE))

    def stop(self) -> None:
        if self._frozen is not None:
            self._frozen.__exit__(None, None, None)
            self._frozen = None


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """Set the time for the whole site: ``clock.on(date(2026, 3, 16))``, ``clock.at(moment)``."""
    frozen = FrozenClock()
    yield frozen
    frozen.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: bytes | str) -> str:
    """The CSRF token of the first form in ``html``, as a browser would send it back."""
    if isinstance(html, bytes):
        html = html.decode()
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1) or match.group(2)


# ------------------------------------------------------------------ the personal-data watch
FINAL_TEST = "tests/test_personal_data.py::test_nothing_personal_in_clear_after_the_whole_run"


DATABASE_FIXTURES = {"database_url", "postgres_url"}
NOT_REPEATED = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The whole-run search for personal data runs last, after everything it searches.
    On the PostgreSQL pass, the tests that touch no database (no database fixture in their
    closure) are left out: the SQLite pass ran them and their answer cannot change."""
    if _on_postgres_pass():
        keep, leave = [], []
        for item in items:
            uses_database = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
            (keep if uses_database or item.nodeid == FINAL_TEST else leave).append(item)
        if leave:
            config.hook.pytest_deselected(items=leave)
            config.stash[NOT_REPEATED] = len(leave)
            items[:] = keep
    items.sort(key=lambda item: item.nodeid == FINAL_TEST)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    left_out = config.stash.get(NOT_REPEATED, 0)
    if left_out:
        terminalreporter.write_line(
            f"PostgreSQL pass: {left_out} tests that use no database were not repeated "
            "(the SQLite pass ran them)")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported so far (modules, models, templates' code) lives for the whole run:
    frozen, the garbage collection after each test only walks what that test made (≈40 ms saved
    per test, a minute per pass)."""
    gc.collect()
    gc.freeze()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Every test's captured logs (raw messages) and output go to the personal-data watch."""
    for name, content in report.sections:
        WATCH.add(f"{report.nodeid}: {name}", content)
