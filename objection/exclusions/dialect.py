"""SQL the exclusion feed needs on both databases: a pseudonym in modhex, an instant's date in
France as ``YYYY-MM-DD`` text, a filing's scope as written in the files.

PostgreSQL has them built in (``translate``, ``AT TIME ZONE``, ``to_char``); SQLite gets two
small functions on each connection (``register_sqlite_functions``, listened to on the engine
by the extension), so the same statements rebuild a whole set in the database on both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, String, case, event, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from core.clock import SITE_TIME_ZONE, SITE_TIME_ZONE_NAME
from objection.exclusions.models import GENERAL_SCOPE
from objection.exclusions.verifier import HEX_DIGITS, MODHEX_DIGITS, to_modhex
from objection.models import Objection, Scope


class modhex(FunctionElement):
    """A hexadecimal pseudonym written in modhex."""

    type = String()
    inherit_cache = True


@compiles(modhex)
def _modhex_default(element, compiler, **kw) -> str:  # printing a statement
    return f"modhex({compiler.process(element.clauses, **kw)})"


@compiles(modhex, "postgresql")
def _modhex_postgresql(element, compiler, **kw) -> str:
    return (f"translate({compiler.process(element.clauses, **kw)}, "
            f"'{HEX_DIGITS}', '{MODHEX_DIGITS}')")


@compiles(modhex, "sqlite")
def _modhex_sqlite(element, compiler, **kw) -> str:
    return f"exclusion_modhex({compiler.process(element.clauses, **kw)})"


class local_day(FunctionElement):
    """The calendar date in France of a UTC instant, as ``YYYY-MM-DD`` text."""

    type = String()
    inherit_cache = True


@compiles(local_day)
def _local_day_default(element, compiler, **kw) -> str:  # printing a statement
    return f"local_day({compiler.process(element.clauses, **kw)})"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw) -> str:
    return (f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE "
            f"'{SITE_TIME_ZONE_NAME}', 'YYYY-MM-DD')")


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw) -> str:
    return f"exclusion_local_date({compiler.process(element.clauses, **kw)})"


def scope_of(scope: str, project_reference: str | None) -> str:
    """A filing's scope as written in the files: ``ALL`` or the project's reference."""
    return GENERAL_SCOPE if scope == Scope.GENERAL else (project_reference or "")


def scope_column() -> ColumnElement[str]:
    """``scope_of`` in SQL, over ``objections``."""
    # Inline constants: PostgreSQL matches the grouped and the selected expression only when
    # they are written the same, bound parameters would differ.
    return case((Objection.scope == literal_column(f"'{Scope.GENERAL.value}'"),
                 literal_column(f"'{GENERAL_SCOPE}'")), else_=Objection.project_reference)


def _sqlite_local_date(moment: str | None) -> str | None:
    if moment is None:
        return None
    parsed = datetime.fromisoformat(moment)
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    return parsed.astimezone(SITE_TIME_ZONE).date().isoformat()


def register_sqlite_functions(engine: Engine) -> None:
    """Give every SQLite connection of ``engine`` the two functions above."""
    if engine.dialect.name != "sqlite":
        return

    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.create_function("exclusion_modhex", 1, to_modhex,
                                         deterministic=True)
        dbapi_connection.create_function("exclusion_local_date", 1, _sqlite_local_date,
                                         deterministic=True)

    event.listen(engine, "connect", on_connect)
