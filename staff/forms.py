"""The back-office's own forms (Flask-WTF: every one carries its CSRF token). Messages are
French, one per field; the accounts service adds its own (``AccountError``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from staff.models import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse électronique"), validators=[
        DataRequired(_l("Saisissez votre adresse électronique.")), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[
        DataRequired(_l("Saisissez votre mot de passe.")), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(_l("Saisissez le code à 6 chiffres de votre application, ou un code de "
                        "secours.")), Length(max=40)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mot de passe actuel"), validators=[
        DataRequired(_l("Saisissez votre mot de passe actuel.")), Length(max=200)])
    new_password = PasswordField(_l("Nouveau mot de passe"), validators=[
        DataRequired(_l("Saisissez un nouveau mot de passe.")), Length(max=200)])


class RoleChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in ROLE_LABELS.items()]


class AccountForm(FlaskForm):
    email = EmailField(_l("Adresse électronique professionnelle"), validators=[
        DataRequired(_l("Saisissez l'adresse électronique.")), Length(max=254)])
    name = StringField(_l("Nom et prénom"), validators=[
        DataRequired(_l("Saisissez le nom et le prénom.")), Length(max=120)])
    roles = RoleChoices(_l("Rôles"), choices=_role_choices, validate_choice=False)
    password = PasswordField(_l("Mot de passe provisoire"), validators=[
        DataRequired(_l("Saisissez un mot de passe provisoire.")), Length(max=200)])


class AccountChangeForm(FlaskForm):
    roles = RoleChoices(_l("Rôles"), choices=_role_choices, validate_choice=False)
    active = BooleanField(_l("Compte actif"))


class ConfirmForm(FlaskForm):
    """A button that changes something (logout, unlock…): only its CSRF token."""
