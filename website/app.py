"""The application factory: the site composed from its packages.

``core`` (the ground floor) is initialised first; then each domain package's ``init_app``
(``registry.extension``, ``objection.extension``) registers its pages, commands and helpers,
and each package's ``check_config`` joins the start-up checks. The shell's own pages
(``website.views``) come last: they combine the packages."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import errors, i18n, logs, migrations, page_cache, security
from core.config import PROJECT_ROOT, build_config
from core.extensions import babel, csrf, db, limiter
from objection import extension as objection
from objection.exclusions import pages as exclusion_pages
from registry import extension as registry
from registry import sections
from staff import extension as staff
from website import cli as website_cli
from website import views

# The packages the site is made of, in the order their catalogues are merged (a later one's
# translation of the same French string wins).
PACKAGES = ("website", "staff", "registry", "objection")
DOMAINS = (staff, registry, objection)


def build_site_config(overrides: dict[str, Any] | None = None,
                      environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The settings of the site: ``core.config.build_config`` with every package's check of
    its own settings (pseudonym and identity keys, the search backend)."""
    settings = build_config(overrides, environ,
                            checks=[domain.check_config for domain in DOMAINS])
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
    page_cache.init_app(app)

    app.register_blueprint(views.bp)
    for domain in DOMAINS:
        domain.init_app(app)
    # The register's project page shows the extractions the platform made for the project
    # (objections' proof of application), through the register's section hook.
    sections.add_project_section(app, sections.ProjectSection(
        render=lambda project: exclusion_pages.project_section(project.reference,
                                                               project.objections_applied),
        versions=exclusion_pages.section_versions))
    page_cache.page_cache(app).add_source("site", lambda: views.site_version(app)[0])
    migrations.init_app(app)
    website_cli.init_app(app)

    # Order matters: the language prefix is read from the path the proxy delivered, and the
    # page cache keys its pages on that path (with the prefix) and the proxy's scheme.
    i18n.init_app(app)
    page_cache.install(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,  # type: ignore[method-assign]
                                x_prefix=count)
    return app
