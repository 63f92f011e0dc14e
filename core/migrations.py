"""``flask db upgrade|downgrade|current|revision``: Alembic migrations, a set-up step.

Migrations run from the command line (``make run``, a deploy), never inside ``create_app``.
"""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup

from core.config import PROJECT_ROOT

db_cli = AppGroup("db", help="Migrations de la base (Alembic).")


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    url = url or current_app.config["DATABASE_URL"]
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Go back to REVISION (``base`` empties the database)."""
    command.downgrade(alembic_config(), revision)


@db_cli.command("current")
def current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(), verbose=False)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
def revision(message: str, autogenerate: bool) -> None:
    """Create a new migration file."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
