"""Alembic environment: the URL comes from the app's configuration (``flask db ...``)."""

from __future__ import annotations

from alembic import context

from core.database import Base, make_engine
from registry.search.postgres.schema import metadata as search_metadata
from website.tables import import_models

import_models()  # fills Base.metadata for autogenerate

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Autogenerate leaves the PostgreSQL search tables alone: their own migration
    (0005_search_postgres) makes them, not the models, so they are not in Base.metadata."""
    return not (type_ == "table" and name in search_metadata.tables)


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
