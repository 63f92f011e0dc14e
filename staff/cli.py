"""``flask audit verify|purge`` (the audit trail's chain and retention) and ``flask staff
create|unlock|reset-second-factor`` (accounts, for the first administrator and for an
administrator locked out of the back-office)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.extensions import db
from staff import accounts, audit
from staff.models import Role

audit_cli = AppGroup("audit", help="Le journal d'audit.")
staff_cli = AppGroup("staff", help="Les comptes du personnel.")


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


def _account_or_exit(email: str):
    user = accounts.find_by_email(db.session, email)
    if user is None:
        click.echo("Aucun compte avec cette adresse.", err=True)
        raise SystemExit(1)
    return user


@staff_cli.command("create")
@click.option("--email", prompt="Adresse électronique", help="Adresse professionnelle.")
@click.option("--name", prompt="Nom et prénom", help="Nom affiché dans le back-office.")
@click.option("--role", "roles", multiple=True, default=[Role.ADMIN.value], show_default=True,
              type=click.Choice([role.value for role in Role]), help="Rôle (répétable).")
@click.password_option("--password", prompt="Mot de passe provisoire",
                       confirmation_prompt="Confirmez le mot de passe",
                       help="Mot de passe provisoire (à changer à la première connexion).")
def create(email: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an account (the first administrator): it changes its password and enrols its
    second factor at its first sign-in, on /gestion."""
    try:
        user = accounts.create_account(db.session, email=email, name=name, roles=list(roles),
                                       password=password, by="cli")
    except accounts.AccountError as error:
        for message in error.errors.values():
            click.echo(message, err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Compte n° {user.id} créé ({', '.join(user.roles)}). À la première connexion "
               "sur /gestion : nouveau mot de passe, puis double authentification.")


@staff_cli.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Unlock an account locked by wrong passwords or codes."""
    user = _account_or_exit(email)
    accounts.unlock(db.session, user, by="cli")
    db.session.commit()
    click.echo(f"Compte n° {user.id} débloqué.")


@staff_cli.command("reset-second-factor")
@click.argument("email")
def reset_second_factor(email: str) -> None:
    """Forget an account's second factor and recovery codes (a lost phone): it enrols again
    at its next sign-in; its sessions end."""
    user = _account_or_exit(email)
    accounts.reset_second_factor(db.session, user, by="cli")
    db.session.commit()
    click.echo(f"Double authentification du compte n° {user.id} réinitialisée.")


def init_app(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(staff_cli)
