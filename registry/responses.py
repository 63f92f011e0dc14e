"""How the register answers HTTP, for its pages and its open data alike: validators (ETag and
Last-Modified from the register's last change), 304s, the listing's parameters and its search.

A view works out its validators first (cheap: a few small queries), answers 304 when the
client's copy is current, and only then builds the body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import get_locale

from core.clock import local_today, start_of_local_day
from core.extensions import db
from core.http_cache import add_cors, cache_control, make_etag, not_modified, with_validators
from core.page_cache import keep
from registry import catalogue, presenters, queries, search
from registry.listing import BadListingRequest, ListingParams, parse_listing
from registry.models import Project
from registry.opendata import dcat, openapi
from registry.opendata.shapes import LICENCE

MAX_AGE = 300  # seconds a shared cache may keep a register response without asking again
EXPORT_CHUNK = 500  # projects loaded per query by the exports
PACKAGE_DIR = Path(__file__).resolve().parent


def site_url() -> str:
    return current_app.config["SITE_URL"].rstrip("/")


def code_version(app: Flask | None = None) -> tuple[str, datetime]:
    """(digest, newest modification) of what the register's static parts are made of: its
    Python code (the catalogue of data sources, the OpenAPI document, the shapes of the
    exports), every template (a page extends the layout and includes its parts: all of them
    are read), every compiled catalogue (the layout's strings are the website's) and the
    licence the open data state.

    Computed once per process, at first use: these change only with a deployment, which
    restarts the processes. In debug mode, templates reload, so it is worked out each time."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("registry_code_version")
    if cached is not None and not app.debug:
        return cached
    env = app.jinja_env
    digest = hashlib.sha256(json.dumps(
        [LICENCE, catalogue.DATA_SOURCES, dcat.HEALTH_CATEGORIES,
         openapi.openapi_document("")], sort_keys=True, default=str).encode())
    paths: list[Path] = sorted(PACKAGE_DIR.rglob("*.py"))
    for path in paths:
        digest.update(f"\x00{path.relative_to(PACKAGE_DIR)}\x00".encode())
        digest.update(path.read_bytes())
    for name in sorted(env.list_templates()):
        source, filename, _uptodate = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(f"\x00{name}\x00{source}".encode())
        if filename:
            paths.append(Path(filename))
    for directory in sorted(str(app.config["BABEL_TRANSLATION_DIRECTORIES"]).split(";")):
        for path in sorted(Path(directory).glob("*/LC_MESSAGES/*.mo")):
            digest.update(f"\x00{path.relative_to(directory)}\x00".encode())
            digest.update(path.read_bytes())
            paths.append(path)
    newest = max((path.stat().st_mtime for path in paths), default=0.0)
    version = (digest.hexdigest()[:32], datetime.fromtimestamp(newest, tz=UTC))
    app.extensions["registry_code_version"] = version
    return version


def validators(*parts: object, daily: bool = False, searched: bool = False,
               catalogue: bool = False, versions: Mapping[str, object] | None = None
               ) -> tuple[str, datetime | None]:
    """ETag and Last-Modified of a register response: the register's version and last change
    (``queries.register_version``, moved by every write), the language, the URL and whatever
    else ``parts`` adds. The versions read are kept for the page cache (``keep``).

    ``daily`` marks responses that depend on today's date (overdue results, objection
    windows): their ETag includes the day and their Last-Modified is at least the start of
    today in France (``clock.start_of_local_day``), so a copy from yesterday is never answered
    "not modified".

    ``searched`` marks responses built from a search: they also follow the index's version
    (``search.index_version``: a token and a moment, one small file read), which changes
    without the database (a rebuild) or just after it (the index update after a commit).
    Read before the search runs, so a response is never older than its validators.

    ``catalogue`` marks responses that show the data sources as the code describes them: they
    also follow the code's version (``code_version``: a deployment changes it, and
    Last-Modified is at least the newest file of the code); a sync of the sources moves the
    register's version.

    ``versions`` are other things the response is made of, each a page-cache source (the
    objection figures of the statistics page).
    """
    register = queries.register_version(db.session)
    found: dict[str, object] = {"register": register.number, **(versions or {})}
    changed = register.changed_at
    today = local_today()
    if daily:
        found["day"] = today.isoformat()
        start = start_of_local_day(today)
        changed = max(changed, start) if changed else start
    if searched:
        index, moment = search.index_version(current_app._get_current_object())  # type: ignore[attr-defined]
        found["index"] = index
        if moment is not None:
            changed = max(changed, moment) if changed else moment
    if catalogue:
        code, built = code_version()
        found["code"] = code
        changed = max(changed, built) if changed else built
    g.page_versions = found
    return make_etag(*sorted(found.items()), changed, get_locale(), request.path,
                     request.query_string, *parts), changed


def keep_page(response: Response) -> Response:
    """Let the page cache keep ``response`` while the versions its validators read hold."""
    return keep(response, g.page_versions)


def unchanged(etag: str, changed: datetime | None, max_age: int = MAX_AGE) -> Response | None:
    """A 304 when the client's copy is current, with the headers a 200 would have had for
    caches (RFC 9110 §15.4.5: Cache-Control and Vary)."""
    response = not_modified(etag, changed)
    if response is not None:
        cache_control(response, max_age)
    return response


def cached(template: str, context: Callable[[], dict[str, Any]], *parts: object,
           daily: bool = False, catalogue: bool = False,
           versions: Mapping[str, object] | None = None) -> Response:
    """Render ``template`` with ``context()`` unless the client's copy is current (ETag /
    Last-Modified): the validators come first, so a 304 loads nothing. ``versions``: what
    else the page shows (see ``validators``)."""
    etag, changed = validators(*parts, daily=daily, catalogue=catalogue, versions=versions)
    response = unchanged(etag, changed)
    if response is not None:
        return response
    response = make_response(render_template(template, **context()))
    return keep_page(with_validators(response, etag, changed, max_age=MAX_AGE))


def conditional(build: Callable[[], str | bytes | Iterable[str]], mimetype: str,
                max_age: int = MAX_AGE, cors: bool = True, filename: str | None = None,
                daily: bool = False, searched: bool = False, catalogue: bool = False,
                static: bool = False) -> Response:
    """Answer 304 when the client is current, else build the body; add CORS and licence (the
    open-data files). A body built as an iterable of text is streamed (the exports: their
    memory stays bounded whatever the register's size).

    ``daily``, ``searched``, ``catalogue``: see ``validators``. ``static``: the body is made
    from the code alone (``code_version``), not from the register.
    """
    if static:
        digest, changed = code_version()
        g.page_versions = {"code": digest}
        etag = make_etag(digest, request.path, mimetype, site_url())
    else:
        etag, changed = validators(mimetype, daily=daily, searched=searched,
                                   catalogue=catalogue)
    response = unchanged(etag, changed, max_age=max_age)
    if response is None:
        body = build()
        if isinstance(body, str | bytes):
            response = keep_page(make_response(body))
        else:
            response = Response(stream_with_context(chunk.encode() for chunk in body))
        response.mimetype = mimetype
        if mimetype in ("text/csv", "application/json", "application/ld+json",
                        "application/atom+xml", "application/xml"):
            response.charset = "utf-8"
        response = with_validators(response, etag, changed, max_age=max_age)
        response.headers["Link"] = f'<{LICENCE["url"]}>; rel="license"'
        if filename:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return add_cors(response) if cors else response


def source_names() -> dict[str, str]:
    """Code → name of every data source: read once per version of the register (a sync of
    the sources moves it) and process, not on every request that checks facet values."""
    if "source_names" not in g:
        version = queries.register_version(db.session).number
        kept = current_app.extensions.get("registry_source_names")
        if kept is None or kept[0] != version:
            kept = (version, {s.code: s.name for s in queries.list_sources(db.session)})
            current_app.extensions["registry_source_names"] = kept
        g.source_names = kept[1]
    return g.source_names


def read_listing() -> ListingParams:
    """The listing parameters of this request, or a 400 page with the French reason."""
    allowed = presenters.allowed_facet_values(list(source_names()))
    try:
        return parse_listing(request.args, allowed)
    except BadListingRequest as error:
        abort(400, description=str(error))


def search_query(params: ListingParams) -> search.SearchQuery:
    return search.SearchQuery(text=params.text, filters=params.filters,
                              sort=params.search_sort(), page=params.page,
                              per_page=params.per_page, today=local_today())


def run_search(params: ListingParams) -> search.SearchResult:
    backend = search.get_search_backend(current_app._get_current_object())  # type: ignore[attr-defined]
    return backend.search(search_query(params))


def matching_projects(params: ListingParams) -> Iterator[Project]:
    """Every project that matches the listing's search and filters (not only one page), in
    the listing's order: the ids come from one search (or every id, by reference, without
    one), the rows are loaded in chunks, and each chunk leaves the session once read, so
    memory stays bounded whatever the register's size."""
    if params.active:
        backend = search.get_search_backend(current_app._get_current_object())  # type: ignore[attr-defined]
        ids = backend.matching_ids(search_query(params))
    else:
        ids = queries.project_ids(db.session)
    for start in range(0, len(ids), EXPORT_CHUNK):
        yield from queries.projects_by_ids(db.session, ids[start:start + EXPORT_CHUNK],
                                           full=True)
        db.session.expunge_all()
