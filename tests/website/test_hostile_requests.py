"""Requests crafted to send visitors elsewhere or to put a NIR in the logs: the language switch
and every redirect stay on the site; every field of every log line is masked."""

from __future__ import annotations

import json
import logging
import logging.config
import re

import pytest

from core.logs import JsonLinesFormatter, gunicorn_logconfig
from tests.conftest import make_test_app

NIR = "185037580127657"
SWITCH = re.compile(r'class="lang-switch" href="([^"]*)"')


def _links(html: str) -> list[str]:
    """The language switch, the canonical link and the alternates of a page."""
    return SWITCH.findall(html) + re.findall(r'<link rel="(?:canonical|alternate)"[^>]*'
                                             r'href="([^"]*)"', html)


@pytest.mark.parametrize("path", ["/en/%5Cevil.example", "/en/%5C%5Cevil.example",
                                  "/en/%2F%2Fevil.example", "/en/%5C/evil.example",
                                  "/%5Cevil.example", "/en/%09/evil.example"])
def test_the_language_switch_never_leads_to_another_site(client, path):
    """``/en/%5Cevil.example`` is ``/\\evil.example``: written as it is into the French link, a
    browser reads ``/\\evil.example`` as ``//evil.example``, another host."""
    html = client.get(path).get_data(as_text=True)
    links = _links(html)
    assert len(links) == 5, links
    for link in links:
        assert "\\" not in link, link
        assert not link.startswith("//") and not re.match(r"^/[/\\]", link), link
        assert link.startswith("/") or link.startswith("http://localhost/"), link


def test_the_language_switch_is_built_from_the_route(app, client):
    from tests.registry.factories import make_project

    with app.app_context():
        make_project("HDH-2024-0001")
    html = client.get("/en/projets/hdh-2024-0001?x=1").get_data(as_text=True)
    assert SWITCH.findall(html) == ["/projets/hdh-2024-0001?x=1"]
    html = client.get("/projets/HDH-2024-0001").get_data(as_text=True)
    assert SWITCH.findall(html) == ["/en/projets/HDH-2024-0001"]
    assert 'rel="canonical" href="http://localhost/projets/HDH-2024-0001"' in html
    # a path the site does not know keeps its (encoded) path, on the site
    html = client.get("/en/pas%20ici").get_data(as_text=True)
    assert SWITCH.findall(html) == ["/pas%20ici"]


@pytest.fixture
def proxied_app(database_url, tmp_path):
    """The site behind one reverse proxy (``PROXY_COUNT=1``), as in production."""
    from tests.conftest import _empty_tables

    application = make_test_app(database_url, tmp_path, PROXY_COUNT=1,
                                SITE_URL="https://donnees-sante.example.fr")
    yield application
    application.extensions["database"]["engine"].dispose()
    _empty_tables(database_url)


@pytest.mark.parametrize("path", ["/projets//HDH-2024-0001", "/en/projets//HDH-2024-0001",
                                  "/projets///HDH-2024-0001"])
def test_a_forged_host_header_does_not_choose_where_redirects_go(client, path):
    """Werkzeug answers ``//`` with a 308 to the merged path, as an absolute URL built on the
    request's ``Host``: it must be ``SITE_URL``'s host whatever the request said."""
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 308
    location = response.headers["Location"]
    assert location.startswith("http://localhost/") and "evil" not in location
    assert location.endswith("/projets/HDH-2024-0001")


def test_behind_a_proxy_a_forged_forwarded_host_does_not_choose_either(proxied_app):
    client = proxied_app.test_client()
    response = client.get("/projets//HDH-2024-0001", headers={
        "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
        "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 308
    assert response.headers["Location"] == \
        "https://donnees-sante.example.fr/projets/HDH-2024-0001"
    # the site's own relative redirects stay relative
    english_home = client.get("/en", headers={"X-Forwarded-Host": "evil.example"})
    assert english_home.status_code == 301 and english_home.headers["Location"] == "/en/"


# ------------------------------------------------------------------------------------ logs

def _formatted(**fields) -> dict:
    record = logging.LogRecord("hdh.test", logging.INFO, __file__, 1, fields.pop("msg", "m"),
                               None, None)
    for key, value in fields.items():
        setattr(record, key, value)
    return json.loads(JsonLinesFormatter().format(record))


@pytest.mark.parametrize("path", [
    f"/projets/{NIR}",
    "/projets/1%2085%2003%2075%20801%20276%2057",         # spaces, percent-encoded
    "/projets/%31%38%35%30%33%37%35%38%30%31%32%37%36%35%37",  # every digit encoded
    "/projets/1%252085%252003%252075%2520801%2520276%252057",  # encoded twice
    "/projets?q=1+85+03+75+801+276+57",                    # a query string's "+"
])
def test_a_nir_in_a_logged_path_is_masked_even_encoded(path):
    entry = _formatted(path=path, method="GET", status=404)
    assert "[masqué]" in entry["path"]
    assert not re.search(r"\d{6}", entry["path"].replace("%", "")), entry
    assert entry["status"] == 404


def test_every_field_is_masked():
    entry = _formatted(msg="ok", event=f"lookup {NIR}", request_id=int(NIR),
                       duration_ms=3.5, cached=False)
    assert entry["event"] == "lookup [masqué]" and entry["request_id"] == "[masqué]"
    assert entry["duration_ms"] == 3.5 and entry["cached"] is False


def test_a_request_for_a_nir_path_leaves_no_nir_in_the_log(client, capfd):
    client.get(f"/projets/{NIR}")
    client.get("/projets/1%2085%2003%2075%20801%20276%2057")
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    paths = [line["path"] for line in lines if line.get("logger") == "hdh.access"]
    assert paths == ["/projets/[masqué]", "/projets/[masqué]"]
    assert NIR not in err and "1 85 03" not in err and "%2085%2003" not in err


def test_gunicorns_invalid_request_line_is_masked(capfd):
    """gunicorn logs a request line it cannot parse as it came, percent-encoded."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logging.config.dictConfig(gunicorn_logconfig("info"))
    try:
        logging.getLogger("gunicorn.error").warning(
            "Invalid request from ip=203.0.113.9: Invalid HTTP request line: "
            "'GET /projets/1%2085%2003%2075%20801%20276%2057 x HTTP/1.1'")
        err = capfd.readouterr().err
    finally:
        for name in ("gunicorn.error", "gunicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = json.loads(err.strip().splitlines()[-1])
    assert line["logger"] == "gunicorn.error" and "/projets/[masqué] x HTTP/1.1" in line["message"]
    assert "%2085" not in err
