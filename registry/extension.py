"""The register as part of the site: ``init_app`` registers its pages, its open data, its
back-office (``registry.backoffice``), its commands and its template helpers;
``check_config`` lists what is wrong with its settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core.page_cache import page_cache
from registry import cli, presenters, queries, responses, search, views
from registry.backoffice import extension as backoffice
from registry.opendata import views as opendata_views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    backoffice.init_app(app)
    app.register_blueprint(opendata_views.bp)
    cli.init_app(app)
    presenters.init_app(app)
    cache = page_cache(app)
    engine = app.extensions["database"]["engine"]
    cache.add_source("register", queries.register_version_reader(engine))
    cache.add_source("index", lambda: search.index_version(app)[0])
    cache.add_source("code", lambda: responses.code_version(app)[0])


def check_config(config: Mapping[str, Any]) -> list[str]:
    """The search backend and its directory (``registry.search.check_config``)."""
    return search.check_config(config)
