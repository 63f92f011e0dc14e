"""Error pages: in the layout, in the visitor's language, never a stack trace."""

from __future__ import annotations

import pytest
from flask import abort

from tests.conftest import make_test_app

FRENCH_TITLES = {400: "Demande incorrecte", 403: "Accès refusé", 404: "Page introuvable",
                 405: "Action impossible", 429: "Trop de demandes", 500: "Erreur du site"}
ENGLISH_TITLES = {400: "Bad request", 403: "Access denied", 404: "Page not found",
                  405: "Action not allowed", 429: "Too many requests", 500: "Site error"}


@pytest.fixture
def error_app(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)

    @app.route("/test-erreur/<int:code>")
    def raise_error(code: int):
        if code == 500:
            raise ValueError("internal detail that must not leak")
        abort(code)

    @app.route("/test-formulaire", methods=["GET", "POST"])
    def form():
        return "ok"

    return app


@pytest.mark.parametrize("code", [400, 403, 404, 405, 429, 500])
@pytest.mark.parametrize(("prefix", "titles"), [("", FRENCH_TITLES), ("/en", ENGLISH_TITLES)])
def test_error_page(error_app, code, prefix, titles):
    response = error_app.test_client().get(f"{prefix}/test-erreur/{code}")
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert f"<h1>{titles[code]}</h1>" in html
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert "Traceback" not in html and "internal detail" not in html
    assert response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("prefix", "title"), [("", "Formulaire expiré"), ("/en", "Form expired")])
def test_post_without_csrf_token_is_refused_with_a_page(error_app, prefix, title):
    response = error_app.test_client().post(f"{prefix}/test-formulaire", data={"x": "1"})
    assert response.status_code == 400
    assert f"<h1>{title}</h1>" in response.get_data(as_text=True)


def test_json_errors_under_api(error_app):
    response = error_app.test_client().get("/api/test-inconnu")
    assert response.status_code == 404
    assert response.json["error"]["title"] == "Page introuvable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_too_large_body_is_413(error_app):
    error_app.config["MAX_CONTENT_LENGTH"] = 1000
    response = error_app.test_client().post("/test-formulaire", data={"x": "a" * 5000})
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/projets/%00", "/projets?q=a%00b", "/comprendre%00"])
def test_nul_bytes_are_a_clear_400(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "Traceback" not in response.get_data(as_text=True)


def test_nul_bytes_in_a_form_are_a_clear_400(client):
    response = client.post("/opposition/suivi", data={"reference": "OPP\x00", "csrf_token": "x"})
    assert response.status_code == 400
    assert "caractère invalide" in response.get_data(as_text=True)


@pytest.fixture
def limited_app(database_url, tmp_path):
    """An app with rate limits on (as in production) and a route limited to 2 per minute."""
    from core.extensions import limiter

    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)

    @app.route("/test-limite")
    @limiter.limit("2 per minute")
    def limited():
        return "ok"

    return app


@pytest.mark.parametrize(("prefix", "title", "text"), [
    ("", "Trop de demandes", "Vous avez fait trop de demandes"),
    ("/en", "Too many requests", "You made too many requests"),
])
def test_a_real_rate_limit_shows_the_sites_429_page(limited_app, prefix, title, text):
    client = limited_app.test_client()
    statuses = [client.get(f"{prefix}/test-limite").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get(f"{prefix}/test-limite")
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html and text in html
    assert "per 1 minute" not in html and "2 per" not in html  # the limiter's own English
    assert int(response.headers["Retry-After"]) > 0


def test_a_real_rate_limit_under_the_api_is_json_in_french(limited_app):
    client = limited_app.test_client()
    for _ in range(2):
        client.get("/test-limite")
    response = client.get("/test-limite", headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.json["error"]["message"].startswith("Vous avez fait trop de demandes")
    assert "Retry-After" in response.headers
