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


def with_validators(response: Response, etag: str, last_modified: datetime | None = None,
                    max_age: int = 300) -> Response:
    """Attach the validators and a short public cache lifetime to a fresh response."""
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = _as_http_date(last_modified)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.vary.add("Accept-Encoding")
    return response


def add_cors(response: Response) -> Response:
    """Open data may be read by any web page: GETs only, no credentials."""
    for name, value in CORS_HEADERS.items():
        response.headers[name] = value
    return response
