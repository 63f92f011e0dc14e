"""Search backends for tests, one of each kind in ``registry.search.BACKENDS``, with no index
yet (as after installation: Whoosh without files, PostgreSQL with empty, never written
tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from core.database import make_engine
from registry.search import SearchBackend
from registry.search.postgres import PostgresBackend
from registry.search.whoosh import WhooshBackend


def empty_postgres_index(engine: Engine) -> None:
    """The PostgreSQL index as the migration leaves it: no rows, never written. (The tests'
    clean-up empties the models' tables only; these are not among them.)"""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM search_documents"))
        connection.execute(text("DELETE FROM search_words"))
        connection.execute(text("UPDATE search_state SET token = 'migrated', "
                                "changed_at = NULL, schema_version = 0"))


@contextmanager
def new_backend(kind: str, tmp_path: Path, postgres_url: str | None) -> Iterator[SearchBackend]:
    """A backend of ``kind`` with no index yet, cleaned up afterwards."""
    if kind == "whoosh":
        yield WhooshBackend(tmp_path / "index")
        return
    if kind == "postgres":
        assert postgres_url is not None
        engine = make_engine(postgres_url)
        empty_postgres_index(engine)
        try:
            yield PostgresBackend(engine)
        finally:
            empty_postgres_index(engine)
            engine.dispose()
        return
    raise AssertionError(f"no test fixture for backend {kind}")
