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
from urllib.parse import quote

import flask_babel
from babel import Locale, numbers
from flask import Flask, current_app, g, redirect, request, url_for
from flask_babel import force_locale, get_locale, to_user_timezone
from werkzeug.routing import BuildError

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


# A path a link may carry as it is: one slash, then no second slash or backslash (browsers read
# "/\\host" and "//host" as another site), no space or control character.
_PLAIN_SITE_PATH = re.compile(r"^/(?![/\\])[^\\\s\x00-\x1f\x7f]*$")
# What a path keeps unencoded: RFC 3986's path characters, and "%" of what is encoded already.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def _page_path() -> tuple[str, str]:
    """The current page's path relative to the language root, and its query string.

    Built from the route the request matched (``url_for`` with its arguments, so quoted as
    every link of the site is); a request that matched none (a 404) keeps its own path only if
    it is a plain site path. Anything else (``/en/%5Cevil.example`` is ``/\\evil.example``, which
    browsers follow to another host) gives the home page, without the query string."""
    query = request.query_string.decode("latin-1")
    if request.url_rule is not None and request.endpoint:
        try:
            built = url_for(request.endpoint, **(request.view_args or {}))
        except BuildError:
            built = ""
        root = request.script_root
        if built.startswith(root + "/") and is_plain_site_path(built[len(root):]):
            return built[len(root):], query
    path = quote(request.path, safe=_PATH_SAFE)
    return (path, query) if is_plain_site_path(path) else ("/", "")


def is_plain_site_path(path: str) -> bool:
    """Whether ``path`` can be put after the site's root in a link without leaving the site."""
    return bool(_PLAIN_SITE_PATH.match(path))


def _language_path(path: str | None, query: str | None) -> tuple[str, str]:
    """The path and query of a link to another language: the current page's (from its route),
    or ``path`` when it is a plain site path, else the home page."""
    if path is None:
        page_path, page_query = _page_path()
        return page_path, page_query if query is None else query
    if not is_plain_site_path(path):
        return "/", ""
    return path, "" if query is None else query


def url_in_language(lang: str, path: str | None = None, query: str | None = None) -> str:
    """The same page in another language (``path`` is relative to the language root).

    The home pages are ``/`` and ``/en/``."""
    path, query = _language_path(path, query)
    url = base_script_root() + PREFIXES.get(lang, "") + path
    return url + (f"?{query}" if query else "")


def absolute_url_in_language(lang: str, path: str | None = None,
                             query: str | None = None) -> str:
    """``url_in_language`` as an absolute URL on ``SITE_URL`` (for hreflang and canonical)."""
    path, query = _language_path(path, query)
    url = current_app.config["SITE_URL"].rstrip("/") + PREFIXES.get(lang, "") + path
    return url + (f"?{query}" if query else "")


def localise_site_path(path: str) -> str:
    """Turn a site path written in content (``/vos-droits``) into one for the current language."""
    if not is_plain_site_path(path):
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


def _number_locale() -> Locale:
    """The page's formatting locale as a Babel ``Locale``, parsed once per request: a listing
    formats a few dozen counts, and switching the locale for each cost more than the page's
    queries."""
    locale = g.get("number_locale")
    if locale is None:
        locale = g.number_locale = Locale.parse(formatting_locale())
    return locale


def format_number(value: float) -> str:
    """``12 345`` in French, ``12,345`` in English (the page's formatting locale)."""
    return numbers.format_decimal(value, locale=_number_locale())


def format_percent(value: float) -> str:
    return numbers.format_percent(value, locale=_number_locale())


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
        format_number=format_number,
        format_percent=format_percent,
    )
