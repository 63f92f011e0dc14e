"""Conditional responses (ETag / Last-Modified → 304) and CORS for read-only open data.

A view computes a cheap *validator* first (typically the register's last change and the query),
asks :func:`not_modified` whether the client already has it, and only then builds the body.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Response, request

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since, Accept",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link, X-Total-Count",
    "Access-Control-Max-Age": "86400",
}


def make_etag(*parts: object) -> str:
    """A strong validator from the things the response depends on (language included)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return digest


def _as_http_date(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def not_modified(etag: str, last_modified: datetime | None = None) -> Response | None:
    """A 304 response when the client's copy is current, else None.

    ``If-None-Match`` wins over ``If-Modified-Since`` (RFC 9110 §13.2.2).
    """
    response = Response(status=304)
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = _as_http_date(last_modified)
    if request.if_none_match:
        return response if request.if_none_match.contains(etag) else None
    if (last_modified is not None and request.if_modified_since
            and _as_http_date(last_modified) <= request.if_modified_since):
        return response
    return None


# How long a shared cache (a reverse proxy) may serve a public response before asking again
# with its validators: short, so a publish reaches readers within a minute through any proxy,
# while a burst of readers costs the application one conditional request a minute per page.
SHARED_MAX_AGE = 60


def cache_control(response: Response, max_age: int = 300) -> Response:
    """The caching headers of a public response that holds no personal data and no form
    token: browsers keep it ``max_age`` seconds, shared caches ``SHARED_MAX_AGE`` at most."""
    response.headers["Cache-Control"] = (f"public, max-age={max_age}, "
                                         f"s-maxage={min(max_age, SHARED_MAX_AGE)}")
    response.vary.add("Accept-Encoding")
    return response


def with_validators(response: Response, etag: str, last_modified: datetime | None = None,
                    max_age: int = 300) -> Response:
    """Attach the validators and the public cache lifetimes to a fresh response."""
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = _as_http_date(last_modified)
    return cache_control(response, max_age)


def add_cors(response: Response) -> Response:
    """Open data may be read by any web page: GETs only, no credentials."""
    for name, value in CORS_HEADERS.items():
        response.headers[name] = value
    return response
