"""The shell: factory, configuration, languages, layout, errors, security headers, health."""

from __future__ import annotations

import json
import logging

import pytest

from core.config import ConfigError
from website.app import build_site_config
from website.content import render_markdown

PROD_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "DATABASE_URL": "postgresql://db.exemple.fr/hdh",
    "PSEUDONYM_KEYS": "k1:" + "y" * 43,
    "IDENTITY_ENCRYPTION_KEYS": "e1:" + "z" * 43,
    "MAIL_SERVER": "smtp.exemple.fr",
    "EXCLUSION_SIGNING_KEY": "s" * 43,  # base64 of 32 bytes
    "NIR_ESCROW_PUBLIC_KEY": "n" * 43,
}


def test_factory_uses_test_config(app):
    assert app.config["APP_ENV"] == "testing"
    assert app.config["TESTING"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True


def test_development_defaults_work_with_no_environment():
    settings = build_site_config(environ={})
    assert settings["APP_ENV"] == "development"
    assert settings["DATABASE_URL"].startswith("sqlite:///")
    assert settings["DATABASE_URL"].endswith("instance/hdh.sqlite3")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "PSEUDONYM_KEYS",
                                     "IDENTITY_ENCRYPTION_KEYS", "MAIL_SERVER",
                                     "EXCLUSION_SIGNING_KEY", "NIR_ESCROW_PUBLIC_KEY"])
def test_production_refuses_to_start_without_a_setting_it_needs(missing):
    """No silent fallback: no identity key derived from SECRET_KEY, no mail written to disk."""
    environ = {k: v for k, v in PROD_ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=f"missing: {missing}"):
        build_site_config(environ=environ)


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("PSEUDONYM_KEYS", "k1:pas du base64 !", "PSEUDONYM_KEYS"),
    ("PSEUDONYM_KEYS", "sans-identifiant", "PSEUDONYM_KEYS"),
    ("PSEUDONYM_KEYS", "k1:" + "y" * 10, "PSEUDONYM_KEYS"),  # too short a key
    ("IDENTITY_ENCRYPTION_KEYS", "e1:" + "z" * 43 + ",e1:" + "w" * 43, "IDENTITY_ENCRYPTION_KEYS"),
    ("SEARCH_BACKEND", "elasticsearch", "SEARCH_BACKEND"),
])
def test_production_refuses_malformed_settings(name, value, reason):
    with pytest.raises(ConfigError, match=reason):
        build_site_config(environ=dict(PROD_ENV, **{name: value}))


def test_production_lists_every_problem_at_once():
    environ = dict(PROD_ENV, PSEUDONYM_KEYS="k1:???", SEARCH_BACKEND="nope", SECRET_KEY="court")
    environ.pop("MAIL_SERVER")
    with pytest.raises(ConfigError) as caught:
        build_site_config(environ=environ)
    message = str(caught.value)
    for name in ("MAIL_SERVER", "PSEUDONYM_KEYS", "SEARCH_BACKEND", "SECRET_KEY", "README"):
        assert name in message, name


def test_production_refuses_development_secret():
    environ = dict(PROD_ENV, SECRET_KEY="dev-only-not-secret-session-key-0123456789")
    with pytest.raises(ConfigError, match="development-only"):
        build_site_config(environ=environ)


def test_production_starts_with_its_secrets():
    settings = build_site_config(environ=PROD_ENV)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_overrides_profile():
    settings = build_site_config(environ={"PROXY_COUNT": "2", "RATELIMIT_ENABLED": "false"})
    assert settings["PROXY_COUNT"] == 2
    assert settings["RATELIMIT_ENABLED"] is False


def test_bad_number_in_environment_is_a_clear_error():
    with pytest.raises(ConfigError, match="PROXY_COUNT"):
        build_site_config(environ={"PROXY_COUNT": "deux"})


@pytest.mark.parametrize(
    ("path", "lang"),
    [("/", "fr"), ("/en/", "en"), ("/comprendre", "fr"), ("/en/comprendre", "en"),
     ("/projets", "fr"), ("/en/projets", "en")],
)
def test_language_comes_from_the_url(client, path, lang):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert 'hreflang="fr"' in html and 'hreflang="en"' in html


def test_every_page_links_to_its_twin(client):
    html = client.get("/comprendre?x=1").get_data(as_text=True)
    assert 'href="/en/comprendre?x=1" hreflang="en"' in html  # the language switch
    assert 'hreflang="en" href="http://localhost/en/comprendre?x=1"' in html
    html = client.get("/en/comprendre").get_data(as_text=True)
    assert 'href="/comprendre" hreflang="fr"' in html
    assert 'hreflang="fr" href="http://localhost/comprendre"' in html


def test_english_pages_link_within_english(client):
    html = client.get("/en/").get_data(as_text=True)
    assert 'href="/en/projets"' in html
    assert 'href="/en/vos-droits"' in html


def test_layout_has_skip_link_navigation_and_footer(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    for label in ("Le registre des projets", "Comprendre", "Vos droits et l'opposition",
                  "À propos", "Mentions légales", "Données personnelles", "Plan du site",
                  "Contact", "Accessibilité"):
        assert label in html, label


def test_home_offers_search_understanding_and_objection(client):
    html = client.get("/").get_data(as_text=True)
    assert 'role="search"' in html and 'name="q"' in html
    assert 'href="/opposition"' in html
    assert "/comprendre/questions-frequentes#" in html


def test_no_inline_script_or_style(client):
    import re

    for path in ("/", "/en/", "/comprendre", "/plan-du-site", "/nope"):
        html = client.get(path).get_data(as_text=True)
        for tag, body in re.findall(r"(<script[^>]*>)(.*?)</script>", html, re.S):
            # external files only (the CSP allows 'self'), or JSON-LD data
            assert ('src="/' in tag and not body.strip()) or 'application/ld+json' in tag, tag
        assert " style=" not in html and "<style" not in html


@pytest.mark.parametrize("path", ["/", "/healthz", "/page-qui-n-existe-pas", "/api/v1/rien"])
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe" not in csp  # neither inline code nor eval
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("lang_prefix", ["", "/en"])
def test_404_page_in_layout_and_language(client, lang_prefix):
    response = client.get(f"{lang_prefix}/nulle-part")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'class="site-header"' in html
    assert ("Page introuvable" in html) == (lang_prefix == "")
    assert "Traceback" not in html


def test_405_keeps_allow_header(client):
    response = client.post("/plan-du-site")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_api_errors_are_json(client):
    response = client.get("/api/v1/rien")
    assert response.status_code == 404
    assert response.is_json and response.json["error"]["status"] == 404


def test_500_hides_the_stack_trace(app, caplog):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret detail" not in html and "Traceback" not in html
    assert "Erreur du site" in html
    assert response.headers["Content-Security-Policy"]


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == response.json["database"] == "ok"
    assert response.json["exclusions"]["status"] == "ok"  # objection/exclusions/freshness.py


def test_healthz_reports_an_unreachable_database(database_url, tmp_path):
    from tests.conftest import make_test_app

    broken = make_test_app("postgresql://127.0.0.1:9/unreachable", tmp_path)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_healthz_fails_on_an_unmigrated_database(tmp_path):
    """A fresh, empty SQLite file answers SELECT 1 but cannot serve a page: 503, with why."""
    from tests.conftest import make_test_app

    app = make_test_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "not migrated"}


def test_healthz_fails_when_migrations_are_pending(tmp_path):
    from alembic import command

    from core.migrations import alembic_config
    from tests.conftest import make_test_app

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0001_baseline")
    app = make_test_app(url, tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "migrations pending"
    command.upgrade(alembic_config(url), "head")
    assert app.test_client().get("/healthz").status_code == 200


def test_healthz_does_not_hang_on_a_silent_database_server(tmp_path, monkeypatch):
    """A server that accepts TCP but never answers (a hung PostgreSQL, a black-holing firewall):
    the connect timeout turns it into a prompt 503 instead of a health check that hangs."""
    import socket
    import time

    from core import database
    from tests.conftest import make_test_app

    monkeypatch.setattr(database, "POSTGRES_CONNECT_TIMEOUT", 2)  # libpq's minimum
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # never accepts, never answers
        port = silent.getsockname()[1]
        app = make_test_app(f"postgresql://u@127.0.0.1:{port}/hdh", tmp_path)
        started = time.monotonic()
        response = app.test_client().get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.json["database"] == "unreachable"
    assert elapsed < 10, f"health check took {elapsed:.1f} s"


def test_sql_parameters_never_reach_errors_or_logs():
    from sqlalchemy import text
    from sqlalchemy.exc import StatementError

    from core.database import make_engine

    for url in ("sqlite://", "postgresql://127.0.0.1:9/unreachable"):
        assert make_engine(url).hide_parameters, url
    with make_engine("sqlite://").connect() as connection, \
            pytest.raises(StatementError) as caught:
        connection.execute(text("SELECT * FROM nowhere WHERE nir = :nir"),
                           {"nir": "185057800608491"})
    assert "185057800608491" not in str(caught.value)


def test_request_id_is_returned_and_logged_as_json(client, capfd):
    response = client.get("/", headers={"X-Request-ID": "abc12345-test"})
    assert response.headers["X-Request-ID"] == "abc12345-test"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()
             if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "hdh.access"]
    assert access and access[-1]["request_id"] == "abc12345-test"
    assert access[-1]["path"] == "/" and access[-1]["status"] == 200


def test_query_strings_never_reach_the_logs(client, capfd):
    client.get("/comprendre?q=1+85+05+78+006+084+91")
    err = capfd.readouterr().err
    assert "1 85 05" not in err and "q=" not in err


@pytest.mark.parametrize("nir", [
    "185057800608491",            # plain
    "1 85 05 78 006 084 91",      # as printed on the card
    "2.85.05.2A.006.084.91",      # dots, Corsica 2A
    "285052B00608491",            # Corsica 2B, no separator
    "2 85 05 2b 006 084 91",      # lower-case b
    "4-85-05-78-006-084-91",      # 4: being assigned (born abroad), dashes
    "385059912345678",            # 3: being assigned
    "7 85 05 78 006 084 91",      # 7/8: temporary numbers
    "8850578006084",              # without its key (13 characters)
    "1 85 05 78 006 084",         # grouped, without its key
])
def test_nir_shaped_values_are_masked_in_logs(nir):
    from core.logs import mask_identifiers

    masked = mask_identifiers(f"saisie refusée: nir={nir}; suite")
    assert masked == "saisie refusée: nir=[masqué]; suite"


@pytest.mark.parametrize("harmless", [
    "projet HDH-2024-0123", "référence OPP-7K2M-9QXD-4", "durée 1234 ms",
    "585057800608491",  # 5 is no NIR's first digit
    "le 12/05/2026 à 10:30",
])
def test_log_mask_leaves_other_numbers(harmless):
    from core.logs import mask_identifiers

    assert mask_identifiers(harmless) == harmless


def test_markdown_is_sanitised():
    html, _ = render_markdown(
        "Bonjour <script>alert(1)</script>\n\n"
        "[clic](javascript:alert(2)) <img src=x onerror=alert(3)> "
        "<a href=\"javascript:alert(4)\" onclick=\"alert(5)\">lien</a>\n\n"
        "[ok](https://exemple.fr)"
    )
    assert "<script" not in html and "javascript:" not in html
    assert "onerror" not in html and "onclick" not in html and "<img" not in html
    assert 'href="https://exemple.fr"' in html


def test_glossary_terms_are_explained_once_per_page():
    from website.content import GlossaryEntry

    glossary = [GlossaryEntry(term="SNDS", slug="snds", definition="…",
                              expansion="Système national des données de santé")]
    html, _ = render_markdown("Le SNDS est grand. Le SNDS est utile.\n\n## Le SNDS", glossary)
    assert html.count('<abbr title="Système national des données de santé">SNDS</abbr>') == 1
    assert 'href="/comprendre/glossaire#snds"' in html
    assert '<h2 id="le-snds">Le SNDS</h2>' in html


def test_session_cookie_is_httponly_and_samesite_lax(client):
    client.get("/opposition")  # the form's CSRF token starts a session
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_session_cookie_is_secure_in_production(database_url, tmp_path, monkeypatch):
    from tests.conftest import make_test_app

    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    app = make_test_app(database_url, tmp_path, APP_ENV="production",
                        DATABASE_URL=database_url)
    client = app.test_client()
    client.get("/opposition", base_url="https://localhost")
    cookie = client.get_cookie("__Host-session", domain="localhost")  # Secure, Path=/, no Domain
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.path == "/"
    app.extensions["database"]["engine"].dispose()

