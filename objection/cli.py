"""``flask objection purge``, ``flask objection reviews`` and ``flask outbox send``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.extensions import db
from objection import mail, queries, retention

objection_cli = AppGroup("objection", help="Les oppositions et les listes d'exclusion.")
outbox_cli = AppGroup("outbox", help="Les courriels en attente d'envoi.")


@objection_cli.command("purge")
def purge() -> None:
    """Delete the encrypted identities and documents no review needs any more, and erase
    filings withdrawn or rejected a year ago or more (run daily). An erasure held by a pending
    withdrawal review is reported, not a failure: reviewers clear it from the back-office
    (``/gestion/oppositions``), and the daily run must not fail meanwhile (``flask objection
    reviews`` lists them). Only a real failure exits non-zero."""
    identities, documents = retention.purge_reviewed(db.session)
    erased, held = retention.erase_withdrawn(db.session)
    db.session.commit()
    click.echo(f"{identities} identité(s) effacée(s), {documents} document(s) abandonné(s) "
               "supprimé(s).")
    click.echo(f"{erased} demande(s) retirée(s) ou refusée(s) depuis un an ou plus effacée(s) : "
               "pseudonyme, "
               "adresse, identité, code de suivi, liens, historique et courriels ; restent la "
               "référence, le statut, les dates, la portée, le projet, le déposant, le canal, "
               "la langue et, pour les statistiques, le mois, la tranche d'âge et le sexe.")
    if held:
        click.echo(f"{len(held)} demande(s) retirée(s) depuis un an ou plus attendent la revue "
                   "de leur retrait avant d'être effacées (voir « flask objection reviews ») : "
                   + ", ".join(held))


@objection_cli.command("reviews")
def reviews() -> None:
    """List the filings staff must review (documents to check, withdrawals of linked filings):
    reference, status, date filed, reason. Never an identity."""
    items = queries.filings_to_review(db.session)
    if not items:
        click.echo("Aucune demande à examiner.")
        return
    click.echo(f"{len(items)} demande(s) à examiner :")
    for item in items:
        click.echo(f"{item.reference}  {item.status:<10}  déposée le {item.filed_on.isoformat()}"
                   f"  {item.reason}")


@outbox_cli.command("send")
def send() -> None:
    """Send the due mails once (retries later with backoff on failure)."""
    sent, failed = mail.send_pending(db.session)
    click.echo(f"{sent} courriel(s) envoyé(s), {failed} en échec (nouvel essai plus tard).")
    given_up = mail.abandoned(db.session)
    if given_up:
        click.echo(f"{given_up} courriel(s) abandonné(s) après {mail.MAX_ATTEMPTS} essais : "
                   "à examiner.", err=True)
    if failed or given_up:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(objection_cli)
    app.cli.add_command(outbox_cli)
