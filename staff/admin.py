"""Accounts, for administrators: the list, a new account (with a temporary password the
person must change), roles, deactivation, unlocking, a lost second factor, a new temporary
password. Every change is an audit event (``staff.accounts``)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.clock import utcnow
from core.extensions import db
from staff import accounts, auth
from staff.forms import AccountChangeForm, AccountForm, ConfirmForm
from staff.models import Role, StaffUser
from staff.views import bp


def _account(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/comptes")
@auth.require_role(Role.ADMIN)
def accounts_list():
    users = list(db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(),
                                                               StaffUser.name)))
    return render_template("staff/accounts.html", users=users, now=utcnow())


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
@auth.require_role(Role.ADMIN)
def account_new():
    form = AccountForm()
    errors: dict[str, str] = {}
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_account(
                db.session, email=form.email.data or "", name=form.name.data or "",
                roles=list(form.roles.data or []), password=form.password.data or "",
                by=auth.actor())
        except accounts.AccountError as error:
            db.session.rollback()
            errors, status = error.errors, 400
        else:
            db.session.commit()
            return redirect(url_for("staff.account", user_id=user.id, cree=1), code=303)
    elif form.is_submitted():
        status = 400
        if not form.roles.data:
            errors["roles"] = _("Choisissez au moins un rôle.")
    return render_template("staff/account_new.html", form=form, errors=errors), status


@bp.route("/comptes/<int:user_id>", methods=["GET", "POST"])
@auth.require_role(Role.ADMIN)
def account(user_id: int):
    user = _account(user_id)
    form = AccountChangeForm(data={"roles": user.roles, "active": user.active})
    errors: dict[str, str] = {}
    status, done = 200, None
    if form.validate_on_submit():
        try:
            changed = accounts.update_account(db.session, user, roles=list(form.roles.data or []),
                                              active=bool(form.active.data), by=auth.actor())
        except accounts.AccountError as error:
            db.session.rollback()
            errors, status = error.errors, 400
        else:
            db.session.commit()
            done = _("Compte mis à jour.") if changed else _("Rien n'a changé.")
    elif form.is_submitted():
        status = 400
    return render_template("staff/account.html", user=user, form=form, errors=errors,
                           done=done, action_form=ConfirmForm(), now=utcnow(),
                           locked=accounts.is_locked(user, utcnow())), status


@bp.route("/comptes/<int:user_id>/debloquer", methods=["POST"])
@auth.require_role(Role.ADMIN)
def account_unlock(user_id: int):
    user = _account(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.unlock(db.session, user, by=auth.actor())
    db.session.commit()
    return redirect(url_for("staff.account", user_id=user.id), code=303)


@bp.route("/comptes/<int:user_id>/double-authentification", methods=["POST"])
@auth.require_role(Role.ADMIN)
def account_reset_second_factor(user_id: int):
    user = _account(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.reset_second_factor(db.session, user, by=auth.actor())
    db.session.commit()
    return redirect(url_for("staff.account", user_id=user.id), code=303)


@bp.route("/comptes/<int:user_id>/mot-de-passe", methods=["POST"])
@auth.require_role(Role.ADMIN)
def account_password(user_id: int):
    """A new temporary password, drawn by the server and shown once to the administrator."""
    user = _account(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    temporary = accounts.temporary_password(email=user.email, name=user.name)
    accounts.change_password(db.session, user, new_password=temporary, by=auth.actor())
    db.session.commit()
    return render_template("staff/temporary_password.html", user=user, password=temporary)
