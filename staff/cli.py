"""``flask audit verify`` and ``flask audit purge``: the audit trail's chain and retention."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.extensions import db
from staff import audit

audit_cli = AppGroup("audit", help="Le journal d'audit.")


@audit_cli.command("verify")
def verify() -> None:
    """Recompute the chain of hashes; name the first row that does not hold (exit 1)."""
    result = audit.verify(db.session)
    if result.ok:
        click.echo(f"Journal d'audit intact : {result.checked} événement(s) vérifié(s) "
                   f"depuis le n° {result.since}.")
        return
    click.echo(f"Journal d'audit altéré : l'événement n° {result.broken_id} ne correspond pas "
               f"({result.reason}). {result.checked} événement(s) vérifié(s) avant lui.",
               err=True)
    raise SystemExit(1)


@audit_cli.command("purge")
@click.option("--months", default=audit.RETENTION_MONTHS, show_default=True,
              help="Durée de conservation, en mois.")
def purge(months: int) -> None:
    """Delete the events older than the retention window, behind a checkpoint (run daily)."""
    deleted = audit.purge(db.session, months=months)
    db.session.commit()
    click.echo(f"{deleted} événement(s) de plus de {months} mois supprimé(s) ; un point de "
               "contrôle permet de vérifier la suite du journal.")


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
