"""``flask registry ...``: demo register, import, search index."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.extensions import db
from registry import queries, search, service
from registry.demo import build_demo
from registry.importer import import_file
from registry.search.documents import iter_search_documents, search_stamps
from registry.validation import RegistryError

registry_cli = AppGroup("registry", help="Le registre des projets.")


@registry_cli.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Ne rien faire si le registre contient déjà des projets.")
@click.option("--seed", default=2026, show_default=True, help="Graine du générateur.")
@click.option("--count", default=420, show_default=True, help="Nombre de projets.")
def demo(if_empty: bool, seed: int, count: int) -> None:
    """Build the fictional demo register (deterministic for a seed)."""
    session = db.session
    if queries.count_projects(session):
        if if_empty:
            click.echo("Le registre contient déjà des projets : démonstration non chargée.")
            return
        raise click.ClickException("Le registre n'est pas vide. Utilisez une base vide.")
    with click.progressbar(length=count, label="Projets de démonstration",
                           file=sys.stderr) as bar:
        counts = build_demo(session, seed=seed, count=count, progress=bar.update)
    session.commit()
    click.echo(f"{counts['projects']} projets, {counts['organisations']} organismes, "
               f"{counts['revisions']} versions publiées.")


@registry_cli.command("reindex")
@click.option("--if-missing", is_flag=True,
              help="Seulement si l'index manque ou ne correspond pas au registre.")
def reindex(if_missing: bool) -> None:
    """Rebuild the search index aside, then swap it in (searches go on meanwhile).

    With ``--if-missing`` (what ``make run`` does), nothing is done when the index holds
    exactly the register's projects, each in its current version; otherwise (no index, an
    older schema, another count, a project missing or indexed in an older version) it is
    rebuilt."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = db.session
    sync = _sync_sources(session)  # source names are among the indexed keywords
    if if_missing:
        problem = ("Le catalogue des sources a changé" if sync.changed
                   else search.index_problem(app, search_stamps(session)))
        if problem is None:
            click.echo("L'index de recherche existe déjà et correspond au registre.")
            return
        click.echo(f"{problem} : reconstruction.")
    total = queries.count_projects(session)
    with click.progressbar(length=total, label="Indexation", file=sys.stderr) as bar:
        count = search.rebuild(app, iter_search_documents(session),
                               progress=bar.update)
    click.echo(f"{count} projets indexés.")


@registry_cli.command("sync-sources")
def sync_sources() -> None:
    """Make the database's data sources what the catalogue (registry/catalogue.py) says.

    A set-up step, run at every deployment (``flask registry reindex`` runs it too): the
    catalogue is code, the pages read the database."""
    _sync_sources(db.session)


def _sync_sources(session: Session) -> service.SourceSync:
    sync = service.sync_data_sources(session)
    session.commit()
    click.echo(f"Catalogue des sources : {len(sync.created)} créée(s), "
               f"{len(sync.updated)} mise(s) à jour, {sync.unchanged} inchangée(s)."
               + "".join(f"\n  créée : {code}" for code in sync.created)
               + "".join(f"\n  mise à jour : {code}" for code in sync.updated))
    return sync


@registry_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True,
              help="Vérifier et montrer les changements sans rien écrire.")
@click.option("--by", default="Import", show_default=True, help="Auteur des versions créées.")
def import_command(path: Path, dry_run: bool, by: str) -> None:
    """Import projects from a CSV or JSON file (see docs/register-import.md).

    Every row is checked before anything is written; the import is committed once, or not at
    all."""
    session = db.session
    try:
        report = import_file(session, path, by=by, dry_run=dry_run,
                             progress_factory=lambda n, label: click.progressbar(
                                 length=n, label=label, file=sys.stderr))
    except (RegistryError, SQLAlchemyError) as exc:
        # Checked rows that could not be saved (changed meanwhile by someone else, database
        # busy): the transaction is rolled back, so nothing is kept.
        session.rollback()
        raise click.ClickException(
            f"import interrompu, rien n'a été importé : {type(exc).__name__}") from None
    for line in report.errors:
        click.echo(line, err=True)
    if report.errors:
        session.rollback()
        raise click.ClickException(
            f"{len(report.errors)} erreur(s) : rien n'a été importé. Corrigez le fichier et "
            "recommencez.")
    for change in report.organisation_changes:
        click.echo(f"Organisation {change}")
    summary = (f"{report.created} création(s), {report.updated} mise(s) à jour, "
               f"{report.unchanged} inchangé(s).")
    if dry_run:
        session.rollback()
        click.echo(f"Vérification seulement : {summary}")
        return
    session.commit()
    click.echo(summary)


def init_app(app: Flask) -> None:
    app.cli.add_command(registry_cli)
