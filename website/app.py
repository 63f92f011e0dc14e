"""The application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import errors, i18n, logs, migrations, security
from core.config import PROJECT_ROOT, build_config
from core.extensions import babel, csrf, db, limiter
from website import cli as website_cli

# The packages the site is made of, in the order their catalogues are merged (a later one's
# translation of the same French string wins).
PACKAGES = ("website", "registry", "objection")


def build_site_config(overrides: dict[str, Any] | None = None,
                      environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The settings of the site: ``core.config.build_config`` with every package's check of
    its own settings (pseudonym and identity keys, the search backend)."""
    from objection.pseudonym import check_config as check_objection_keys
    from registry.search import check_config as check_search

    settings = build_config(overrides, environ, checks=(check_objection_keys, check_search))
    if not settings.get("BABEL_TRANSLATION_DIRECTORIES"):
        settings["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
            str(PROJECT_ROOT / "translations" / package) for package in PACKAGES)
    return settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the site. ``config`` overrides the profile and the environment (tests use it).

    No side effect beyond the app object: migrations, demo data and the search index are
    set-up steps (``make run``), never run here.
    """
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(build_site_config(config))
    app.instance_path = app.config["INSTANCE_DIR"]

    logs.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=app.config["BABEL_TRANSLATION_DIRECTORIES"])
    limiter.init_app(app)
    security.init_app(app)
    errors.init_app(app)

    from objection.views import bp as objection_bp
    from registry.api import bp as registry_api_bp
    from registry.views import bp as registry_bp
    from website.views import bp as site_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(registry_api_bp)
    app.register_blueprint(objection_bp)

    from objection import cli as objection_cli
    from registry import cli as registry_cli

    migrations.init_app(app)
    website_cli.init_app(app)
    registry_cli.init_app(app)
    objection_cli.init_app(app)
    _register_template_helpers(app)

    # Order matters: the language prefix is read from the path the proxy delivered.
    i18n.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,  # type: ignore[method-assign]
                                x_prefix=count)
    return app


def _register_template_helpers(app: Flask) -> None:
    """Date and number formatting for templates, in the page's formatting locale (en_GB for
    English pages: see ``core.i18n.FORMATTING_LOCALES``)."""
    import flask_babel
    from flask_babel import force_locale

    def localised(function):
        def formatted(*args, **kwargs):
            with force_locale(i18n.formatting_locale()):
                return function(*args, **kwargs)

        formatted.__name__ = function.__name__
        return formatted

    def format_moment(value) -> str:
        """A date and time as people write them: "25 novembre 2026 à 14:15" (no seconds,
        no UTC offset), in the site's time zone."""
        return flask_babel.gettext("%(date)s à %(time)s",
                                   date=localised(i18n.format_date)(value, "long"),
                                   time=localised(flask_babel.format_time)(value, "short"))

    app.jinja_env.globals.update(
        format_moment=format_moment,
        format_date=localised(i18n.format_date),
        format_number=localised(flask_babel.format_decimal),
        format_percent=localised(flask_babel.format_percent),
    )
