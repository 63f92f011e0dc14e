"""Security headers on every response, HTML, JSON and errors alike."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, abort, current_app, request
from flask_babel import gettext

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def no_store(response: Response) -> Response:
    """For pages that show personal data: no copy in any cache, shared or private."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def reject_nul_bytes() -> None:
    """No legitimate request carries a NUL character; PostgreSQL would refuse it deep inside a
    query, so it is refused here with a clear 400."""
    values = [request.path, *request.args.values()]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                         "multipart/form-data"):
        values.extend(request.form.values())
    if any("\x00" in value for value in values):
        abort(400, description=gettext("Votre demande contient un caractère invalide."))


def redirect_on_site(response: Response) -> Response:
    """Keep every redirect on the site's own address, ``SITE_URL``.

    Werkzeug's routing redirects (``/projets//HDH-2024-0001`` merged into one slash, a missing
    trailing slash) are absolute URLs built from the request's ``Host`` header, or from
    ``X-Forwarded-Host`` behind a proxy (``PROXY_COUNT``): whoever sends the request chooses
    the host, and a shared cache or a crafted link could send visitors to another site. An
    absolute ``Location`` therefore gets ``SITE_URL``'s scheme and host, whatever the request
    said; a relative one that a browser would read as another host (``//host``, ``/\\host``)
    is reduced to one leading slash. The site never redirects to another site."""
    location = response.headers.get("Location")
    if not location:
        return response
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        site = urlsplit(current_app.config["SITE_URL"])
        if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
            response.headers["Location"] = urlunsplit(
                (site.scheme, site.netloc, parts.path or "/", parts.query, parts.fragment))
    elif location.startswith(("//", "/\\")):
        response.headers["Location"] = "/" + location.lstrip("/\\")
    return response


def init_app(app: Flask) -> None:
    app.before_request(reject_nul_bytes)
    app.after_request(add_security_headers)
    app.after_request(redirect_on_site)
