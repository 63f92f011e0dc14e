"""Commands of the exclusion feed.

``flask objection export [--full] [--sequence N] [--out DIR]``, ``flask objection verify FILE…``,
``flask objection signing-key [--new]``, ``flask objection export-status``,
``flask objection escrow-keygen --private-key-out FILE``,
``flask objection rekey --private-key-file FILE``, and
``flask platform token create --name NAME | list | revoke ID``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core.clock import utcnow
from core.extensions import db
from objection.cli import objection_cli
from objection.exclusions import (
    delivery,
    escrow,
    exports,
    freshness,
    retention,
    rotation,
    signing,
    state,
    tokens,
    verifier,
)
from objection.keys import keyring

ACTOR = "system:cli"
platform_cli = AppGroup("platform", help="L'accès de la plateforme de données à l'API.")
token_cli = AppGroup("token", help="Les jetons de l'API de la plateforme.")
platform_cli.add_command(token_cli)


@objection_cli.command("export")
@click.option("--full", "full_set", is_flag=True,
              help="La liste complète (après avoir publié les changements en attente).")
@click.option("--sequence", type=int, default=None,
              help="Réécrire le fichier d'un numéro déjà publié.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Dossier des fichiers (défaut : INSTANCE_DIR/exclusions).")
def export(full_set: bool, sequence: int | None, out: Path | None) -> None:
    """Publish the changes waiting as the next delta (or the full set with --full) and write
    the file and its signature (run at least daily: every filing in force must be in a list
    within 24 hours)."""
    out = out or Path(current_app.config["INSTANCE_DIR"]) / "exclusions"
    now = utcnow()
    try:
        if sequence is not None:
            state.lock(db.session)
            found = (exports.find(db.session, sequence, "full") if full_set
                     else exports.chain_export(db.session, sequence))
            served = delivery.Served(found) if found is not None else None
            if served is None:
                raise click.ClickException(f"Aucun fichier publié sous le n° {sequence}.")
        elif full_set:
            served = delivery.full(db.session, now=now, actor=ACTOR)
        else:
            served = delivery.bring_up_to_date(db.session, state.lock(db.session), now=now,
                                               actor=ACTOR)
    except state.RotationIncomplete as problem:
        db.session.rollback()
        raise click.ClickException(
            f"{problem.count} demande(s) en vigueur ne sont pas encore sous la clé "
            f"{problem.key_id} : terminez le changement de clé (flask objection rekey).") \
            from problem
    db.session.commit()
    if served is None:
        click.echo("Rien de nouveau à publier : aucune opposition n'a changé depuis la "
                   "dernière liste.")
        _housekeeping(now)
        return
    export_row = served.export
    try:
        with click.progressbar(length=max(export_row.line_count, 1),
                               label=f"Liste n° {export_row.sequence} ({export_row.kind})"
                               ) as bar:
            path = exports.write_files(db.session, export_row, out, served.spooled,
                                       progress=bar.update)
    finally:
        served.close()
    _housekeeping(now)
    click.echo(f"{path} : {export_row.line_count} ligne(s) (+{export_row.additions} "
               f"/ -{export_row.removals}), signature dans {path.name}.sig")


def _housekeeping(now) -> None:
    """After each export: the status moves a pull or an acknowledgement left (a first full
    export moves a whole country's filings), and the removed lines past their 90 days."""
    moved = 0
    while True:
        step = delivery.catch_up(db.session, now=now, actor=ACTOR)
        db.session.commit()
        moved += step
        if not step:
            break
    forgotten = retention.compact(db.session, now=now)
    db.session.commit()
    if moved:
        click.echo(f"{moved} demande(s) passée(s) à « transmise » ou « appliquée ».")
    if forgotten:
        click.echo(f"{forgotten} ligne(s) retirée(s) depuis plus de 90 jours oubliée(s).")


@objection_cli.command("verify")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Clé publique PEM (défaut : celle de ce site).")
def verify(files: tuple[Path, ...], public_key: Path | None) -> None:
    """Check files (signature, hash, count, order) and, given in chain order, their sequence
    and that deltas applied to a full export give the next full export. Exit 1 on failure."""
    key = verifier.load_public_key(public_key) if public_key else signing.public_key()
    try:
        proved = verifier.check_chain(list(files), key)
    except verifier.ExclusionFileError as error:
        click.echo(f"REFUSÉ : {error}", err=True)
        raise SystemExit(1) from error
    for sentence in proved:
        click.echo(sentence)
    click.echo("Tout est valide.")


@objection_cli.command("signing-key")
@click.option("--new", "new_key", is_flag=True,
              help="Tirer une nouvelle clé privée (valeur pour EXCLUSION_SIGNING_KEY).")
def signing_key(new_key: bool) -> None:
    """Print the public key the lists are signed with (to hand to the platform), or a new
    private key."""
    if new_key:
        click.echo(signing.new_key_setting())
        return
    click.echo(f"Empreinte : {signing.key_fingerprint()}")
    click.echo(signing.public_key_pem(), nl=False)


@objection_cli.command("export-status")
def export_status() -> None:
    """The age of the oldest filing in force no list covers yet; exit 1 past 24 hours."""
    found = freshness.freshness(db.session, utcnow())
    click.echo(f"Dernière liste : n° {found.last_sequence} ; appliquée par la plateforme "
               f"jusqu'au n° {found.acknowledged_sequence}.")
    if found.age is None:
        click.echo("Toutes les demandes en vigueur sont dans une liste.")
        return
    hours = found.age.total_seconds() / 3600
    click.echo(f"Plus ancienne demande en vigueur hors de toute liste : depuis {hours:.1f} h.")
    if found.late:
        click.echo("EN RETARD : au-delà de 24 heures (lancez flask objection export).",
                   err=True)
        raise SystemExit(1)


@objection_cli.command("escrow-keygen")
@click.option("--private-key-out", required=True, type=click.Path(dir_okay=False,
                                                                  path_type=Path))
def escrow_keygen(private_key_out: Path) -> None:
    """Draw the escrow key pair: the private key into a new file (mode 0600, to keep
    offline), the public key printed for NIR_ESCROW_PUBLIC_KEY."""
    private, public = escrow.new_key_pair()
    descriptor = os.open(private_key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(private + "\n")
    click.echo(f"Clé privée écrite dans {private_key_out} (à garder hors ligne).")
    click.echo(f"NIR_ESCROW_PUBLIC_KEY={public}")


@objection_cli.command("rekey")
@click.option("--private-key-file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
def rekey(private_key_file: Path) -> None:
    """Re-pseudonymise every filing under the current key of PSEUDONYM_KEYS, opening the
    sealed NIRs with the escrow's private key (in memory only). Exit 1 when filings in force
    are left under another key."""
    private = escrow.parse_private_key(private_key_file.read_text("ascii"))
    total = rotation.RekeyReport()
    now = utcnow()
    while True:
        report = rotation.rekey_batch(db.session, private, by=ACTOR, now=now,
                                      after_id=total.last_id)
        db.session.commit()
        if report.last_id == total.last_id:
            break
        total.merge(report)
    in_force, left = rotation.remaining(db.session)
    click.echo(f"{total.rekeyed} demande(s) sous la clé {keyring().current_id} ; "
               f"{total.relinked} rattachée(s) à une demande plus ancienne de la même "
               "personne.")
    for label, references in (("sans NIR scellé", total.without_escrow),
                              ("dont le NIR scellé ne correspond pas", total.unreadable)):
        if references:
            click.echo(f"Laissées sous leur clé, {label} : {', '.join(references)}")
    if in_force:
        click.echo(f"{in_force} demande(s) en vigueur restent sous une autre clé ({left} en "
                   "tout) : la prochaine liste complète ne peut pas être faite.", err=True)
        raise SystemExit(1)
    click.echo("La prochaine liste sera une liste complète sous la nouvelle clé.")


@token_cli.command("create")
@click.option("--name", required=True, help="À quoi sert ce jeton (ex. : production).")
def token_create(name: str) -> None:
    """Create a token for the platform's API; shown once, stored hashed."""
    issued = tokens.create(db.session, name=name, by=ACTOR, now=utcnow())
    db.session.commit()
    click.echo(f"Jeton n° {issued.token.id} ({issued.token.name}), à transmettre à la "
               "plateforme par un canal sûr ; il ne sera plus affiché :")
    click.echo(issued.secret)


@token_cli.command("list")
def token_list() -> None:
    """The tokens: number, name, created, last used, revoked."""
    for token in tokens.listing(db.session):
        revoked = (f"révoqué le {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at
                   else "actif")
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "jamais"
        click.echo(f"n° {token.id}  {token.name}  créé le {token.created_at:%Y-%m-%d}  "
                   f"dernier usage : {used}  {revoked}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    token = tokens.revoke(db.session, token_id, by=ACTOR, now=utcnow())
    db.session.commit()
    if token is None:
        raise click.ClickException(f"Aucun jeton n° {token_id}.")
    click.echo(f"Jeton n° {token.id} révoqué.")


def init_app(app: Flask) -> None:
    app.cli.add_command(platform_cli)
