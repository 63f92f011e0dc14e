"""The objection back-office as part of the site: its blueprint, and its entries on the
back-office's home page (``staff.views.add_home_link``)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from objection.backoffice import assisted, bp, dashboard, review  # noqa: F401 -- routes on bp
from staff.dashboard import add_dashboard_section
from staff.models import Role
from staff.views import add_home_link


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    add_dashboard_section(dashboard.render)
    add_home_link("objection_backoffice.queue", _l("Oppositions : demandes à examiner"),
                  (Role.REVIEWER,))
