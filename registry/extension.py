"""The register as part of the site: ``init_app`` registers its pages, its open data, its
commands and its template helpers; ``check_config`` lists what is wrong with its settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from registry import cli, presenters, search, views
from registry.opendata import views as opendata_views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(opendata_views.bp)
    cli.init_app(app)
    presenters.init_app(app)


def check_config(config: Mapping[str, Any]) -> list[str]:
    """The search backend and its directory (``registry.search.check_config``)."""
    return search.check_config(config)
