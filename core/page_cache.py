"""Rendered public pages kept in each process's memory and served before the application runs.

A view marks a response it may share with :func:`keep`, naming the versions it was built from
(``register=42``, ``day=2026-12-04``…). The middleware stores that response (status, headers,
body) under the request (method, scheme, mount point, path, query string: so the language
too); the next identical request is answered from memory, without Flask, while every one of
those versions still holds. Each version has a *source*, a cheap function registered by the
package that owns it (the register's version is one primary-key read, the search index's one
small file read), asked before serving: a publish moves the register's version, so the very
next request renders afresh. Conditional requests are answered 304 from the stored validators.

Never kept: anything but a 200 to GET or HEAD; a response that sets a cookie or varies on one;
a response its view did not mark (pages with a form token or personal data are never marked);
a body over ``MAX_BODY``. The access log line is written for cached answers too.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response
from werkzeug.http import parse_date, parse_etags

from core.clock import local_today
from core.logs import REQUEST_ID_HEADER, SAFE_REQUEST_ID, access_log

MARK_HEADER = "X-Page-Cache-Versions"  # from the view to the middleware; never sent
MAX_BODY = 1024 * 1024  # larger bodies (exports) are not kept
MAX_BYTES = 64 * 1024 * 1024  # per process
log = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def keep(response: Response, versions: Mapping[str, object]) -> Response:
    """Let the page cache keep ``response`` while each of ``versions`` (source name → the value
    the view read *before* building the body) still holds."""
    response.headers[MARK_HEADER] = "&".join(f"{name}={value}"
                                             for name, value in sorted(versions.items()))
    return response


@dataclass(frozen=True)
class _Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    versions: tuple[tuple[str, str], ...]
    etag: str | None
    last_modified: float | None


def _key(environ: dict) -> tuple[str, ...]:
    """GET and HEAD share an entry (only GET fills it)."""
    return (environ.get("wsgi.url_scheme", "http"), environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


class PageCache:
    """WSGI middleware in front of the application (installed outermost, inside any proxy
    fix, by :func:`install`). ``sources`` are added with :meth:`add_source` by the packages
    that own them, in their ``init_app``."""

    def __init__(self, app: WSGIApp | None = None, max_bytes: int = MAX_BYTES,
                 enabled: bool = True):
        self.app: WSGIApp = app or (lambda environ, start_response: [])
        self.enabled = enabled
        self.max_bytes = max_bytes
        self.sources: dict[str, Callable[[], object]] = {}
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def add_source(self, name: str, current: Callable[[], object]) -> None:
        """``current()`` gives the version ``name`` has now (cheap: it runs before every
        cached answer that depends on it)."""
        self.sources[name] = current

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    # -- serving
    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if not self.enabled or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        key = _key(environ)
        entry = self._entries.get(key)
        if entry is not None and self._still_valid(entry):
            return self._answer(entry, environ, start_response)
        return self._render(key, environ, start_response)

    def _still_valid(self, entry: _Entry) -> bool:
        try:
            return all(str(self.sources[name]()) == value for name, value in entry.versions)
        except Exception:  # a source that cannot answer: render, never serve a doubtful page
            log.exception("page cache: a version source failed")
            return False

    def _answer(self, entry: _Entry, environ: dict,
                start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        with self._lock:
            if _key(environ) in self._entries:
                self._entries.move_to_end(_key(environ))
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        headers = [*entry.headers, (REQUEST_ID_HEADER, request_id)]
        status, body = entry.status, entry.body
        if self._not_modified(entry, environ):
            status, body = "304 NOT MODIFIED", b""
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-type",)]
        else:
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        access_log.info("request", extra={
            "request_id": request_id, "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
            "status": int(status[:3]), "duration_ms": round((time.perf_counter() - started)
                                                            * 1000, 1), "cached": True})
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    @staticmethod
    def _not_modified(entry: _Entry, environ: dict) -> bool:
        """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since."""
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match:
            return entry.etag is not None and parse_etags(if_none_match).contains(entry.etag)
        since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        return (since is not None and entry.last_modified is not None
                and entry.last_modified <= since.timestamp())

    # -- filling
    def _render(self, key: tuple[str, ...], environ: dict,
                start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            shown = [(k, v) for k, v in headers if k != MARK_HEADER]
            return start_response(status, shown, exc_info) if exc_info else \
                start_response(status, shown)

        result = self.app(environ, capture)
        headers = captured.get("headers") or []
        mark = next((v for k, v in headers if k == MARK_HEADER), None)
        if mark is None or not captured.get("status", "").startswith("200") or not (
                self._shareable(headers)) or environ.get("REQUEST_METHOD") != "GET":
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if len(body) <= MAX_BODY:
            self._store(key, captured["status"], headers, body, mark)
        return [body]

    @staticmethod
    def _shareable(headers: list[tuple[str, str]]) -> bool:
        for name, value in headers:
            lowered = name.lower()
            if lowered == "set-cookie":
                return False
            if lowered == "vary" and "cookie" in value.lower():
                return False
            if lowered == "cache-control" and ("no-store" in value or "private" in value):
                return False
        return True

    def _store(self, key: tuple[str, ...], status: str, headers: list[tuple[str, str]],
               body: bytes, mark: str) -> None:
        versions = tuple(tuple(part.split("=", 1)) for part in mark.split("&") if part)
        if any(name not in self.sources for name, _value in versions):
            return  # a version nobody can check again: never serve it from memory
        kept = [(k, v) for k, v in headers
                if k.lower() not in ("content-length", REQUEST_ID_HEADER.lower())
                and k != MARK_HEADER]
        found = {k.lower(): v for k, v in kept}
        modified = parse_date(found.get("last-modified"))
        etags = parse_etags(found.get("etag"))
        etag = next(iter(etags), None) if etags else None
        entry = _Entry(status, kept, body, versions, etag,  # type: ignore[arg-type]
                       modified.timestamp() if modified else None)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._size -= len(previous.body)
            self._entries[key] = entry
            self._size += len(body)
            while self._size > self.max_bytes and self._entries:
                _old_key, old = self._entries.popitem(last=False)
                self._size -= len(old.body)


def init_app(app: Flask) -> PageCache:
    """Create the app's page cache (``PAGE_CACHE_ENABLED``), with the clock's day as a source;
    packages add theirs, then :func:`install` puts it in front of the application."""
    cache = PageCache(enabled=bool(app.config.get("PAGE_CACHE_ENABLED", True)))
    cache.add_source("day", lambda: local_today().isoformat())
    app.extensions["page_cache"] = cache
    return cache


def page_cache(app: Flask) -> PageCache:
    return app.extensions["page_cache"]


def install(app: Flask) -> None:
    """Put the page cache in front of the application as it is wrapped now."""
    cache = page_cache(app)
    cache.app = app.wsgi_app
    app.wsgi_app = cache  # type: ignore[method-assign]
