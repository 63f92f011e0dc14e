"""SQLAlchemy 2 engine and a session per application context.

SQLite runs in WAL mode with ``synchronous=FULL`` on every connection, so a commit that returned
is on disk (an objection's receipt depends on it); PostgreSQL runs with synchronous commit and a
connection timeout (so a health check or a request cannot hang on an unreachable server).
Engines hide SQL parameters (``hide_parameters=True``): a failing query's values, which may be
personal data, never reach logs or error messages.
Services receive the session and flush; the view or CLI command that called them commits once.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import (
    DateTime,
    Engine,
    Enum,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database (SQLite forgets the time zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def string_enum(kind: type[enum.StrEnum], name: str, length: int = 40) -> Enum:
    """A StrEnum column stored as its value in a string column with a CHECK constraint:
    portable between SQLite and PostgreSQL and readable in plain SQL."""
    return Enum(kind, name=name, native_enum=False, create_constraint=True, length=length,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True)


def dialect_insert(session: Session) -> Callable[..., Any]:
    """The ``insert`` construct of the session's database, for ``ON CONFLICT`` clauses
    (PostgreSQL and SQLite spell them the same way): a conflict settled in the statement raises
    no duplicate-key error, so none reaches a log."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


class Base(DeclarativeBase):
    """Declarative base of every table; the naming convention keeps migrations portable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Seconds PostgreSQL may take to accept a connection before the attempt fails.
POSTGRES_CONNECT_TIMEOUT = 5


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine with the durability settings this site relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, hide_parameters=True, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"options": "-c synchronous_commit=on -c timezone=UTC",
                      "connect_timeout": POSTGRES_CONNECT_TIMEOUT},
    )


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


@lru_cache(maxsize=1)
def schema_heads() -> frozenset[str]:
    """The Alembic head revision(s) of the code (read once: the scripts do not change while the
    process runs)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot serve this code, or None when it answers and is at the Alembic head.

    Returned reasons (short, for monitoring): ``"unreachable"``, ``"not migrated"`` (no
    ``alembic_version`` table), ``"migrations pending"`` (the database is at another revision).
    """
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if not inspect(connection).has_table("alembic_version"):
                return "not migrated"
            current = {row[0] for row in connection.execute(
                text("SELECT version_num FROM alembic_version"))}
    except Exception:
        return "unreachable"
    return None if current == schema_heads() else "migrations pending"


def scalar_reader(engine: Engine, sql: str) -> Callable[[], Any]:
    """A function that runs ``sql`` (a one-value query) on a connection of its own per thread,
    outside the engine's pool and any request: for values read before every cached answer
    (the page cache's versions), where a pooled connection and SQLAlchemy's statement
    machinery would cost more than the answer. Autocommit, so each read sees the latest
    commit; a broken connection is opened again on the next read."""
    local = threading.local()
    opened: list[Any] = []  # every thread's connection, closed with the engine
    generation = [0]  # moved when they are closed: each thread then opens a new one
    lock = threading.Lock()
    dbapi = engine.dialect.loaded_dbapi
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    if engine.dialect.name == "postgresql":
        cparams = {**cparams, "autocommit": True,
                   "connect_timeout": POSTGRES_CONNECT_TIMEOUT}
    else:
        cparams = {**cparams, "isolation_level": None, "check_same_thread": False}

    def read() -> Any:
        connection = getattr(local, "connection", None)
        if connection is None or local.generation != generation[0]:
            connection = local.connection = dbapi.connect(*cargs, **cparams)
            local.generation = generation[0]
            with lock:
                opened.append(connection)
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception:
            local.connection = None
            with lock:
                if connection in opened:
                    opened.remove(connection)
            connection.close()
            raise
        return row[0] if row else None

    def close_all(_engine: Engine) -> None:
        with lock:
            generation[0] += 1
            for connection in opened:
                with contextlib.suppress(Exception):
                    connection.close()
            opened.clear()

    event.listen(engine, "engine_disposed", close_all)
    # An app dropped without disposing its engine (a test's second app): close them too.
    weakref.finalize(read, close_all, engine)
    return read


class Database:
    """Holds the engine of each app and hands out one session per application context."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQLALCHEMY_ECHO", False))
        app.extensions["database"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
        }
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"]["engine"]

    @property
    def session(self) -> Session:
        """The session of the current application context (created on first use)."""
        if "db_session" not in g:
            g.db_session = current_app.extensions["database"]["sessionmaker"]()
        return g.db_session

    def new_session(self) -> Session:
        """A session outside the per-request one (background work, threads)."""
        return current_app.extensions["database"]["sessionmaker"]()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit the request session on success, roll it back on any error."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything not committed
