"""Objections as part of the site: ``init_app`` registers the form, the follow-up, the
back-office (``objection.backoffice``), the commands and the exclusion feed
(``objection.exclusions``); ``check_config`` lists what is wrong with the keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core.page_cache import page_cache
from objection import cli, keys, statistics, views
from objection.backoffice import extension as backoffice
from objection.exclusions import extension as exclusions


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    backoffice.init_app(app)
    cli.init_app(app)
    engine = app.extensions["database"]["engine"]
    page_cache(app).add_source("objections", statistics.version_reader(engine))
    exclusions.init_app(app)


def check_config(config: Mapping[str, Any]) -> list[str]:
    """The pseudonym and identity keys (``objection.keys.check_config``), the signing and
    escrow keys of the exclusion feed (``objection.exclusions.extension.check_config``).
    Called in production only."""
    return keys.check_config(config) + exclusions.check_config(config)
