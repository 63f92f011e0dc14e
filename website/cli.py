"""Commands of the shell: ``flask db upgrade|downgrade|current|revision``, ``flask translate``."""

from __future__ import annotations

import subprocess
import sys

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup

from website.config import PROJECT_ROOT

db_cli = AppGroup("db", help="Migrations de la base (Alembic).")
translate_cli = AppGroup("translate", help="Catalogues de traduction (Babel).")

DOMAINS = {
    # catalogue → folders whose strings it holds
    "website": ["website"],
    "registry": ["registry"],
    "objection": ["objection"],
}


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


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)  # noqa: S603


def run_translations(extract: bool = True, compile_only: bool = False,
                     domains: tuple[str, ...] = ()) -> None:
    """Extract each package's strings into its catalogue, update English, compile."""
    base = PROJECT_ROOT / "translations"
    for domain, folders in DOMAINS.items():
        if domains and domain not in domains:
            continue
        directory = base / domain
        pot = directory / "messages.pot"
        po = directory / "en" / "LC_MESSAGES" / "messages.po"
        if not compile_only and extract:
            directory.mkdir(parents=True, exist_ok=True)
            _pybabel("extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l", "-k", "N_",
                     "--no-location", "--sort-output", "-o", str(pot),
                     *[str(PROJECT_ROOT / f) for f in folders])
            if po.exists():
                _pybabel("update", "-i", str(pot), "-d", str(directory), "-l", "en",
                         "--no-fuzzy-matching")
            else:
                _pybabel("init", "-i", str(pot), "-d", str(directory), "-l", "en")
        if po.exists():
            _pybabel("compile", "-d", str(directory), "-l", "en", "--statistics")


@translate_cli.command("update")
@click.option("--domain", "domains", multiple=True, type=click.Choice(sorted(DOMAINS)),
              help="Only this package's catalogue (repeatable); all by default.")
def translate_update(domains: tuple[str, ...]) -> None:
    """Extract new strings and merge them into the English catalogues, then compile."""
    run_translations(domains=domains)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile the English catalogues (.po → .mo)."""
    run_translations(compile_only=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(translate_cli)


