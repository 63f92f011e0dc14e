"""Staff as part of the site: ``init_app`` registers the back-office's door (sign-in, second
factor, accounts under ``/gestion``), the session cookie's handling and the commands
(``flask staff``, ``flask audit``); ``check_config`` has nothing of its own to check (the
cookie follows ``SESSION_COOKIE_SECURE``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from staff import admin, auth, cli, dashboard, views  # noqa: F401 -- routes on views.bp
from staff.models import Role


def init_app(app: Flask) -> None:
    views.add_home_link("staff.dashboard", _l("Tableau de bord"), ())
    views.add_home_link("staff.accounts_list", _l("Comptes du personnel"), (Role.ADMIN,))
    views.add_home_link("staff.journal", _l("Journal d'audit"), (Role.ADMIN,))
    app.register_blueprint(views.bp)
    auth.init_app(app)
    cli.init_app(app)


def check_config(config: Mapping[str, Any]) -> list[str]:
    return []
