"""``flask objection purge`` and ``flask outbox send``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from website.extensions import db

objection_cli = AppGroup("objection", help="Les oppositions et les listes d'exclusion.")
outbox_cli = AppGroup("outbox", help="Les courriels en attente d'envoi.")


@objection_cli.command("purge")
def purge() -> None:
    """Delete the encrypted identities and documents no review needs any more."""
    from objection.service import purge_reviewed

    count = purge_reviewed(db.session)
    db.session.commit()
    click.echo(f"{count} identité(s) effacée(s).")


@outbox_cli.command("send")
def send() -> None:
    """Send the due mails once (retries later with backoff on failure)."""
    from objection.mail import send_pending

    sent, failed = send_pending(db.session)
    click.echo(f"{sent} courriel(s) envoyé(s), {failed} en échec (nouvel essai plus tard).")
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(objection_cli)
    app.cli.add_command(outbox_cli)
