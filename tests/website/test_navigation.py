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
