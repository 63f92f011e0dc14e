"""Staff as part of the site: ``init_app`` registers the back-office's door (sign-in, second
factor, accounts under ``/gestion``), the session cookie's handling and the commands
(``flask staff``, ``flask audit``); ``check_config`` has nothing of its own to check (the
cookie follows ``SESSION_COOKIE_SECURE``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from staff import admin, auth, cli, views  # noqa: F401 -- admin adds its routes to views.bp


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    auth.init_app(app)
    cli.init_app(app)


def check_config(config: Mapping[str, Any]) -> list[str]:
    return []
