"""The page cache: kept pages are served without running the application, only while every
version they were built from still holds; a publish is visible at once; pages with a form or
personal data are never kept nor publicly cacheable."""

from __future__ import annotations

import pytest
from flask import Flask, make_response

from core import page_cache
from core.extensions import db
from tests.registry.factories import make_project

# --------------------------------------------------------------------------- the middleware

@pytest.fixture
def tiny():
    """A small app behind a page cache, counting how often each view runs."""
    app = Flask(__name__)
    runs = {"page": 0, "cookie": 0, "unmarked": 0, "error": 0}
    versions = {"register": "1"}

    @app.route("/page")
    def page():
        runs["page"] += 1
        response = make_response(f"page {versions['register']}")
        response.set_etag(f"v{versions['register']}")
        return page_cache.keep(response, {"register": versions["register"]})

    @app.route("/cookie")
    def cookie():
        runs["cookie"] += 1
        response = page_cache.keep(make_response("with a cookie"), {"register": "1"})
        response.set_cookie("session", "x")
        return response

    @app.route("/unmarked")
    def unmarked():
        runs["unmarked"] += 1
        return "not marked"

    @app.route("/error")
    def error():
        runs["error"] += 1
        return page_cache.keep(make_response("missing", 404), {"register": "1"})

    cache = page_cache.PageCache(app.wsgi_app)
    cache.add_source("register", lambda: versions["register"])
    app.wsgi_app = cache  # type: ignore[method-assign]
    return app.test_client(), runs, versions, cache


def test_a_kept_page_is_served_without_the_application(tiny):
    client, runs, _versions, _cache = tiny
    first, second = client.get("/page"), client.get("/page")
    assert first.data == second.data == b"page 1"
    assert runs["page"] == 1
    assert page_cache.MARK_HEADER not in first.headers
    assert page_cache.MARK_HEADER not in second.headers
    assert second.headers["X-Request-ID"]  # each answer from memory has its own id
    assert int(second.headers["Content-Length"]) == len(b"page 1")


def test_a_moved_version_renders_again_at_once(tiny):
    client, runs, versions, _cache = tiny
    client.get("/page")
    versions["register"] = "2"
    assert client.get("/page").data == b"page 2"
    assert runs["page"] == 2


def test_conditional_and_head_requests_are_answered_from_memory(tiny):
    client, runs, _versions, _cache = tiny
    client.get("/page")
    assert client.get("/page", headers={"If-None-Match": '"v1"'}).status_code == 304
    assert client.get("/page", headers={"If-None-Match": '"v0"'}).status_code == 200
    head = client.head("/page")
    assert head.status_code == 200 and head.data == b""
    assert runs["page"] == 1


@pytest.mark.parametrize("path", ["/cookie", "/unmarked", "/error"])
def test_what_is_not_a_shareable_page_is_never_kept(tiny, path):
    client, runs, _versions, _cache = tiny
    client.get(path)
    client.get(path)
    assert runs[path.strip("/")] == 2


def test_a_failing_version_source_renders_instead_of_serving(tiny, caplog):
    client, runs, _versions, cache = tiny
    client.get("/page")
    cache.add_source("register", lambda: 1 / 0)
    assert client.get("/page").data == b"page 1"
    assert runs["page"] == 2


def test_the_cache_stays_within_its_size(tiny):
    client, _runs, _versions, cache = tiny
    cache.max_bytes = 10
    client.get("/page")
    client.get("/page?x=1")
    assert len(cache._entries) == 1  # "page 1" twice is 12 bytes


# --------------------------------------------------------------------------- the site

@pytest.fixture
def register(app):
    with app.app_context():
        make_project("HDH-2024-0001")


def _views_run(app, monkeypatch) -> list[str]:
    """The endpoints Flask dispatches from now on (a page from the cache runs none)."""
    seen: list[str] = []
    original = app.dispatch_request

    def counted():
        from flask import request

        seen.append(request.endpoint)
        return original()

    monkeypatch.setattr(app, "dispatch_request", counted)
    return seen


@pytest.mark.parametrize("path", ["/", "/projets", "/projets/HDH-2024-0001", "/statistiques",
                                  "/api/v1/projects", "/comprendre", "/en/projets",
                                  "/sources/DCIR", "/projets.atom"])
def test_public_pages_are_served_from_memory(app, client, register, monkeypatch, path):
    first = client.get(path)
    seen = _views_run(app, monkeypatch)
    again = client.get(path)
    assert again.status_code == 200 and again.data == first.data
    assert seen == []


def test_a_publish_is_visible_at_once(app, client, register):
    assert "Un nouveau titre" not in client.get("/projets/HDH-2024-0001").text
    assert "Un nouveau titre" not in client.get("/projets").text
    with app.app_context():
        make_project("HDH-2024-0001", title="Un nouveau titre")
    assert "Un nouveau titre" in client.get("/projets/HDH-2024-0001").text
    assert "Un nouveau titre" in client.get("/projets").text


def test_a_filing_is_visible_at_once_in_the_statistics(app, client, register):
    from tests.objection.factories import file_through_ui

    before = client.get("/statistiques").headers["ETag"]
    assert file_through_ui(client).status_code == 303
    assert client.get("/statistiques").headers["ETag"] != before


def test_a_new_day_renders_the_pages_that_depend_on_it(app, client, register, clock):
    from datetime import date

    clock.on(date(2030, 5, 1))
    first = client.get("/projets/HDH-2024-0001").headers["ETag"]
    clock.on(date(2030, 5, 2))
    assert client.get("/projets/HDH-2024-0001").headers["ETag"] != first


FORM_PAGES = ["/opposition", "/opposition/suivi", "/projets/HDH-2024-0001/opposition"]


@pytest.mark.parametrize("path", FORM_PAGES)
def test_pages_with_a_form_token_are_never_kept_nor_public(app, client, register,
                                                           monkeypatch, path):
    first = client.get(path, follow_redirects=True)
    assert first.status_code == 200
    assert "public" not in first.headers.get("Cache-Control", "")
    seen = _views_run(app, monkeypatch)
    client.get(path, follow_redirects=True)
    assert seen  # rendered again: never from memory


def test_pages_with_personal_data_are_never_public(app, client, register, monkeypatch):
    from tests.objection.factories import file_through_ui

    filed = file_through_ui(client)
    assert filed.status_code == 303
    receipt = client.get(filed.headers["Location"])
    assert receipt.status_code == 200 and "OPP-" in receipt.text
    assert receipt.headers["Cache-Control"] == "no-store"
    seen = _views_run(app, monkeypatch)
    client.get(filed.headers["Location"])
    assert seen == ["objection.receipt"]


@pytest.mark.parametrize("path", ["/", "/projets", "/projets/HDH-2024-0001", "/comprendre",
                                  "/comprendre/glossaire", "/plan-du-site", "/statistiques",
                                  "/api/v1/projects", "/sitemap.xml"])
def test_public_pages_say_how_long_shared_caches_may_keep_them(client, register, path):
    response = client.get(path)
    control = response.headers["Cache-Control"]
    assert control.startswith("public, max-age=") and "s-maxage=" in control
    assert response.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}
                      ).status_code == 304


def test_the_page_cache_can_be_turned_off(database_url, tmp_path, monkeypatch):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, tmp_path / "instance", PAGE_CACHE_ENABLED=False)
    try:
        client = app.test_client()
        client.get("/comprendre")
        seen = _views_run(app, monkeypatch)
        client.get("/comprendre")
        assert seen == ["site.section_index"]
    finally:
        app.extensions["database"]["engine"].dispose()
        with app.app_context():
            db.session.close()
