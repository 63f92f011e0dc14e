"""Languages in the URL: French at the root, English under ``/en``.

A small WSGI middleware moves a leading ``/en`` from ``PATH_INFO`` to ``SCRIPT_NAME``. Every route
is therefore declared once, ``url_for`` builds ``/en/...`` links by itself on English pages, and
the locale is read from the environ, never guessed from headers, so a shared link shows the same
language to everyone.

One form per page: the English home is ``/en/`` (``/en`` answers a permanent redirect to it), in
the navigation, the ``hreflang`` alternates, the canonical link and the sitemap. Alternates and
canonical links are absolute, built on ``SITE_URL`` (the site's public root).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import flask_babel
from flask import Flask, current_app, redirect, request
from flask_babel import force_locale, get_locale, to_user_timezone

LANG_ENVIRON_KEY = "hdh.lang"
ADD_SLASH_ENVIRON_KEY = "hdh.add_slash"
PREFIXES = {"en": "/en"}
DEFAULT_LANG = "fr"
# The language of a page (URL, <html lang>, catalogues) is "fr" or "en"; dates and numbers are
# formatted for the country whose conventions the copy follows: the English copy is British
# ("20 November 2026", not "November 20, 2026").
FORMATTING_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


class LanguagePrefixMiddleware:
    """Strip ``/en`` from the path and remember the language for the request."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO", "") or "/"
        lang = DEFAULT_LANG
        if path in PREFIXES.values():  # "/en": answered by a redirect to "/en/" (see init_app)
            environ[ADD_SLASH_ENVIRON_KEY] = True
        for code, prefix in PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                lang = code
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                break
        environ[LANG_ENVIRON_KEY] = lang
        return self.wsgi_app(environ, start_response)


def select_locale() -> str:
    """Flask-Babel locale selector: the language carried by the URL."""
    if request:
        return request.environ.get(LANG_ENVIRON_KEY, DEFAULT_LANG)
    return DEFAULT_LANG


def current_lang() -> str:
    return str(get_locale() or DEFAULT_LANG)


def formatting_locale(lang: str | None = None) -> str:
    """The Babel locale for dates and numbers in ``lang`` (default: the page's language)."""
    lang = lang or current_lang()
    return FORMATTING_LOCALES.get(lang, lang)


def base_script_root() -> str:
    """The application's mount point without the language prefix."""
    root = request.script_root
    lang = request.environ.get(LANG_ENVIRON_KEY, DEFAULT_LANG)
    prefix = PREFIXES.get(lang, "")
    if prefix and root.endswith(prefix):
        root = root[: -len(prefix)]
    return root


def url_in_language(lang: str, path: str | None = None, query: str | None = None) -> str:
    """The same page in another language (``path`` is relative to the language root).

    The home pages are ``/`` and ``/en/``."""
    path = request.path if path is None else path
    query = request.query_string.decode("latin-1") if query is None else query
    url = base_script_root() + PREFIXES.get(lang, "") + path
    return url + (f"?{query}" if query else "")


def absolute_url_in_language(lang: str, path: str | None = None,
                             query: str | None = None) -> str:
    """``url_in_language`` as an absolute URL on ``SITE_URL`` (for hreflang and canonical)."""
    path = request.path if path is None else path
    query = request.query_string.decode("latin-1") if query is None else query
    url = current_app.config["SITE_URL"].rstrip("/") + PREFIXES.get(lang, "") + path
    return url + (f"?{query}" if query else "")


def localise_site_path(path: str) -> str:
    """Turn a site path written in content (``/vos-droits``) into one for the current language."""
    if not path.startswith("/") or path.startswith("//"):
        return path
    return request.script_root + path


def _english_home_with_slash():
    """``/en`` → 301 ``/en/``: one form of the English home (through Flask, so the redirect
    carries the security headers like every response)."""
    if request.environ.get(ADD_SLASH_ENVIRON_KEY):
        query = request.query_string.decode("latin-1")
        return redirect(request.script_root + "/" + (f"?{query}" if query else ""), code=301)
    return None


def init_app(app: Flask) -> None:
    app.wsgi_app = LanguagePrefixMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_english_home_with_slash)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    _register_template_helpers(app)

    @app.context_processor
    def inject_language() -> dict[str, Any]:
        lang = current_lang()
        others = [code for code in app.config["LANGUAGES"] if code != lang]
        return {
            "current_lang": lang,
            "other_lang": others[0] if others else lang,
            "url_in_language": url_in_language,
            "absolute_url_in_language": absolute_url_in_language,
        }


_DAY_FIELD = re.compile(r"(?<![d'])d(?![d'])")


def format_date(value: date | datetime | None = None, format: str = "medium") -> str:
    """``flask_babel.format_date`` in the current locale, writing the first of the month as
    French does in prose: "1er décembre 2026", not "1 décembre 2026" (long and full formats;
    CLDR has no ordinal day, so the pattern gets a quoted "er")."""
    locale = get_locale()
    if locale is not None and locale.language == "fr" and format in ("long", "full"):
        local = to_user_timezone(value) if isinstance(value, datetime) else value
        if local is not None and local.day == 1:
            pattern = locale.date_formats[format].pattern
            return flask_babel.format_date(value, _DAY_FIELD.sub("d'er'", pattern, count=1))
    return flask_babel.format_date(value, format)


def _register_template_helpers(app: Flask) -> None:
    """Date and number formatting for templates, in the page's formatting locale (en_GB for
    English pages: see ``core.i18n.FORMATTING_LOCALES``)."""
    def localised(function):
        def formatted(*args, **kwargs):
            with force_locale(formatting_locale()):
                return function(*args, **kwargs)

        formatted.__name__ = function.__name__
        return formatted

    def format_moment(value) -> str:
        """A date and time as people write them: "25 novembre 2026 à 14:15" (no seconds,
        no UTC offset), in the site's time zone."""
        return flask_babel.gettext("%(date)s à %(time)s",
                                   date=localised(format_date)(value, "long"),
                                   time=localised(flask_babel.format_time)(value, "short"))

    app.jinja_env.globals.update(
        format_moment=format_moment,
        format_date=localised(format_date),
        format_number=localised(flask_babel.format_decimal),
        format_percent=localised(flask_babel.format_percent),
    )
