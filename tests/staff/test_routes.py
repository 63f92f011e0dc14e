"""Every back-office route checks who asks: walked as an anonymous visitor, as each role and
as an account with no role, by GET and by POST; and every POST needs its CSRF token. A new
``/gestion`` route is walked too (the list comes from the app), and one without a declared
check (``staff.auth.require_role`` or ``staff.auth.mark``) fails the test."""

from __future__ import annotations

import re

import pytest

from staff.auth import PARTIAL, PUBLIC
from staff.models import Role
from tests.conftest import csrf_token_from
from tests.staff.factories import make_staff, signed_in

ROLES = [role.value for role in Role]


def _routes(app) -> list[tuple[str, str, object, set[str]]]:
    """(path with sample values, endpoint, declared roles, methods) of every /gestion route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/gestion") or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<int:[^>]+>", "999999", rule.rule)
        path = re.sub(r"<[^>]+>", "inconnu", path)
        view = app.view_functions[rule.endpoint]
        found.append((path, rule.endpoint, getattr(view, "staff_roles", None),
                      set(rule.methods or ()) & {"GET", "POST"}))
    return found


def test_every_back_office_route_declares_its_check(app):
    routes = _routes(app)
    assert len(routes) >= 10
    undeclared = [endpoint for _, endpoint, roles, _ in routes if roles is None]
    assert undeclared == []


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    token = csrf_token_from(client.get("/gestion/connexion").data)
    for path, _endpoint, roles, methods in _routes(app):
        if roles in (PUBLIC, PARTIAL):
            continue
        for method in methods:
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 303, (method, path)
            assert "/gestion/connexion" in response.location, (method, path)


@pytest.mark.parametrize("holder", [*ROLES, "none"])
def test_each_role_reaches_its_routes_only(app, holder):
    roles = [] if holder == "none" else [holder]
    staff = make_staff(app, *(roles or ["editor"]), email=f"{holder}@sante.gouv.example")
    if holder == "none":
        from core.extensions import db
        from staff.models import StaffUser

        with app.app_context():
            db.session.get(StaffUser, staff.id).roles = []
            db.session.commit()
    checked = 0
    for path, _endpoint, declared, methods in _routes(app):
        if declared in (PUBLIC, PARTIAL):
            continue
        for method in sorted(methods):
            client = signed_in(app, app.test_client(), staff)
            token = csrf_token_from(client.get("/gestion/").data)
            response = client.open(path, method=method, data={"csrf_token": token})
            allowed = not declared or any(role in declared for role in roles)
            assert response.status_code < 500, (holder, method, path)
            if allowed:
                assert response.status_code != 403, (holder, method, path)
                assert "/gestion/connexion" not in (response.location or ""), (method, path)
            else:
                assert response.status_code == 403, (holder, method, path)
            checked += 1
    assert checked >= 10


def test_every_post_needs_its_csrf_token(app):
    staff = make_staff(app, *ROLES, email="tout@sante.gouv.example")
    for path, endpoint, _declared, methods in _routes(app):
        if "POST" not in methods:
            continue
        client = signed_in(app, app.test_client(), staff)
        response = client.post(path, data={})
        assert response.status_code == 400, (endpoint, response.status_code)
