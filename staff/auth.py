"""Who is signed in, and whether they may: the API every back-office view uses.

* ``require_role(*roles)`` — a view decorator: an anonymous visitor is sent to the sign-in
  page (then back), a session without its second factor to that step, an account that must
  change its password to that page; a signed-in person without one of ``roles`` gets a 403.
  ``require_role()`` with no role lets any member of staff in. The roles are kept on the view
  (``view.staff_roles``) so a test can walk every ``/gestion`` route as every role.
* ``current_staff()`` — the signed-in account (second factor given), or None.
* ``actor()`` — how the audit trail names them: ``"staff:<id>"``.

Every back-office response is ``no-store``, never kept by the page cache, never indexed.
The staff cookie carries only a random token (``staff.sessions``), ``HttpOnly``,
``SameSite=Strict``, ``Secure`` and named ``__Host-…`` when the site runs over HTTPS.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, redirect, request, url_for

from core.clock import utcnow
from core.extensions import db
from core.security import no_store
from staff import sessions
from staff.models import ROLE_LABELS, StaffSession, StaffUser

COOKIE = "hdh-gestion"
SECURE_COOKIE = "__Host-hdh-gestion"  # Secure, Path=/, no Domain: only this exact host
View = TypeVar("View", bound=Callable[..., Any])
PARTIAL = "partial"  #: marks views open to a session waiting for its second factor
PUBLIC = "public"    #: marks views open to anyone (sign-in)


def cookie_name() -> str:
    return SECURE_COOKIE if current_app.config.get("SESSION_COOKIE_SECURE") else COOKIE


def _load() -> tuple[StaffSession | None, str]:
    """The open session of this request (or None) and, when it just ended, why."""
    if "staff_session" in g:
        return g.staff_session, g.get("staff_session_ended", "")
    row = sessions.find(db.session, request.cookies.get(cookie_name(), ""))
    ended = ""
    if row is not None:
        now = utcnow()
        ended = sessions.expiry_reason(row, now) or ("inactive" if not row.user.active else "")
        if ended:
            sessions.end(db.session, row, ended, now=now)
            db.session.commit()
            row = None
            g.staff_cookie = ""
        elif sessions.needs_touch(row, now):
            row.last_seen_at = now
            db.session.commit()
    g.staff_session, g.staff_session_ended = row, ended
    return row, ended


def current_session() -> StaffSession | None:
    """This request's open staff session, complete or waiting for its second factor."""
    return _load()[0]


def current_staff() -> StaffUser | None:
    """The signed-in account: an open session whose second factor was given."""
    row = current_session()
    return row.user if row is not None and row.second_factor_at is not None else None


def actor() -> str:
    """The audit trail's name for whoever is signed in (``staff:<id>``)."""
    user = current_staff()
    if user is None:
        raise RuntimeError("no member of staff is signed in")
    return user.actor


def start_session(token: str) -> None:
    """Give this response the cookie of a session just opened (set after the request)."""
    g.staff_cookie = token


def forget_session() -> None:
    g.staff_cookie = ""


def _set_cookie(response: Response) -> Response:
    token = g.get("staff_cookie")
    if token is None:
        return response
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if token:
        response.set_cookie(cookie_name(), token, httponly=True, secure=secure,
                            samesite="Strict", path="/")
    else:
        response.delete_cookie(cookie_name(), httponly=True, secure=secure,
                               samesite="Strict", path="/")
    return response


def _safe_next(target: str) -> str | None:
    """A path inside the back-office to come back to after signing in, or None."""
    if target.startswith("/gestion") and "//" not in target and "\\" not in target:
        return target
    return None


def login_redirect(expired: str = "") -> Response:
    path = request.full_path.rstrip("?") if request.method == "GET" else request.path
    args: dict[str, str] = {"suivant": path} if _safe_next(path) else {}
    if expired:
        args["expiree"] = "1"
    return redirect(url_for("staff.login", **args), code=303)


def require_role(*roles: str) -> Callable[[View], View]:
    """Let the view run only for a signed-in member of staff holding one of ``roles`` (any
    member when none is given)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            row, ended = _load()
            if row is None:
                return login_redirect(ended)
            if row.second_factor_at is None:
                return redirect(url_for("staff.second_factor"), code=303)
            user = row.user
            if user.must_change_password and request.endpoint != "staff.password":
                return redirect(url_for("staff.password"), code=303)
            if roles and not user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.staff_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def mark(kind: str) -> Callable[[View], View]:
    """Mark a view open without a complete session (``PUBLIC``, ``PARTIAL``)."""

    def decorate(view: View) -> View:
        view.staff_roles = kind  # type: ignore[attr-defined]
        return view

    return decorate


def _back_office_response(response: Response) -> Response:
    if request.path.startswith("/gestion"):
        no_store(response)
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return _set_cookie(response)


def _template_helpers() -> dict[str, Any]:
    return {"current_staff": current_staff, "role_label": _role_label}


def _role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def init_app(app) -> None:
    app.after_request(_back_office_response)
    app.context_processor(_template_helpers)
