"""Navigation: the main menu marks where the visitor is, for screen readers too."""

from __future__ import annotations

import pytest


def _nav_current(html: str) -> dict[str, str]:
    import re

    nav = html.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    return {href: value for href, value in
            re.findall(r'<a href="([^"]+)" aria-current="(\w+)"', nav)}


@pytest.mark.parametrize(("path", "expected"), [
    ("/comprendre", {"/comprendre": "page"}),              # the link IS this page
    ("/comprendre/snds", {"/comprendre": "true"}),         # a page of its section
    ("/en/comprendre/snds", {"/en/comprendre": "true"}),
    ("/projets", {"/projets": "page"}),
    ("/opposition", {"/vos-droits": "true"}),
    ("/vos-droits", {"/vos-droits": "page"}),
    ("/a-propos/contact", {"/a-propos": "true"}),
    ("/", {}),
])
def test_main_nav_says_page_only_on_the_current_page(client, path, expected):
    assert _nav_current(client.get(path).get_data(as_text=True)) == expected


def _head_links(html: str) -> dict[str, str]:
    import re

    head = html.split("</head>", 1)[0]
    links = {}
    for tag in re.findall(r"<link [^>]*>", head):
        rel = re.search(r'rel="([^"]+)"', tag).group(1)
        hreflang = re.search(r'hreflang="([^"]+)"', tag)
        key = f"{rel}:{hreflang.group(1)}" if hreflang else rel
        links[key] = re.search(r'href="([^"]+)"', tag).group(1)
    return links


@pytest.mark.parametrize(("path", "canonical", "fr", "en"), [
    ("/", "http://localhost/", "http://localhost/", "http://localhost/en/"),
    ("/en/", "http://localhost/en/", "http://localhost/", "http://localhost/en/"),
    ("/comprendre?x=1", "http://localhost/comprendre?x=1", "http://localhost/comprendre?x=1",
     "http://localhost/en/comprendre?x=1"),
    ("/en/comprendre/snds", "http://localhost/en/comprendre/snds",
     "http://localhost/comprendre/snds", "http://localhost/en/comprendre/snds"),
])
def test_alternates_and_canonical_are_absolute_site_urls(client, path, canonical, fr, en):
    links = _head_links(client.get(path).get_data(as_text=True))
    assert links["canonical"] == canonical
    assert links["alternate:fr"] == fr and links["alternate:x-default"] == fr
    assert links["alternate:en"] == en


def test_the_english_home_has_one_form(client):
    response = client.get("/en?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "/en/?x=1"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    html = client.get("/en/comprendre").get_data(as_text=True)
    assert 'href="/en/"' in html  # site name and breadcrumb link to /en/, never /en
    assert 'href="/en"' not in html
    french = client.get("/").get_data(as_text=True)
    assert 'class="lang-switch" href="/en/"' in french


def test_alternates_follow_site_url(app):
    app.config["SITE_URL"] = "https://transparence.exemple.fr/"
    html = app.test_client().get("/comprendre").get_data(as_text=True)
    assert _head_links(html)["alternate:en"] == "https://transparence.exemple.fr/en/comprendre"
