"""The register's back-office as part of the site: its blueprint, and its entry on the
back-office's home page (``staff.views.add_home_link``)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from registry.backoffice import bp, dashboard, views  # noqa: F401 -- views add routes to bp
from staff.dashboard import add_dashboard_section
from staff.models import Role
from staff.views import add_home_link


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_dashboard_section(dashboard.render)
    add_home_link("registry_backoffice.projects", _l("Registre : projets"), (Role.EDITOR,))
