"""Every content page renders in both languages, with its date, its table of contents and
working links; the glossary explains its terms where they appear."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from website.content import SECTIONS, ContentLibrary

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ContentLibrary(ROOT / "content", ("fr", "en"))
FR_PAGES = sorted(LIBRARY.pages["fr"].values(), key=lambda p: p.slug)
REQUIRED = {
    "comprendre": {"snds", "qui-peut-utiliser-les-donnees", "protection-des-donnees",
                   "autorisation-des-projets", "catalogue", "questions-frequentes"},
    "vos-droits": {"opposition", "vos-droits", "mineurs-et-personnes-protegees",
                   "opposition-facile-a-lire", "vos-droits-facile-a-lire"},
    "a-propos": {"accessibilite", "mentions-legales", "donnees-personnelles", "contact"},
}


def test_required_pages_exist_in_both_languages():
    for lang in ("fr", "en"):
        for section, slugs in REQUIRED.items():
            present = {p.slug for p in LIBRARY.section_pages(lang, section)}
            assert slugs <= present, f"{lang}/{section} misses {sorted(slugs - present)}"


def test_easy_read_versions_exist():
    assert [p.slug for p in FR_PAGES if p.easy_read], "no easy-to-read (FALC) page"


@pytest.mark.parametrize("page", FR_PAGES, ids=lambda p: p.slug)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_page_renders(client, page, prefix):
    response = client.get(f"{prefix}/{page.section}/{page.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    lang = "en" if prefix else "fr"
    title = LIBRARY.pages[lang][page.slug].title
    assert f"<h1>{title}</h1>".replace("'", "&#39;") in html or f"<h1>{title}</h1>" in html
    assert ("Mis à jour le" in html) if not prefix else ("Updated on" in html)


def test_dates_are_formatted_for_the_locale(client):
    page = LIBRARY.pages["fr"]["snds"]
    fr = client.get("/comprendre/snds").get_data(as_text=True)
    en = client.get("/en/comprendre/snds").get_data(as_text=True)
    months_fr = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"]
    assert f"{page.updated.day} {months_fr[page.updated.month - 1]} {page.updated.year}" in fr
    en_updated = LIBRARY.pages["en"]["snds"].updated
    # British copy, British dates: "20 November 2026", not "November 20, 2026"
    assert f"Updated on {en_updated.day} {en_updated.strftime('%B')} {en_updated.year}" in en
    assert '<html lang="en">' in en


def test_english_numbers_and_dates_in_the_register_are_british(app):
    from datetime import date

    with app.test_request_context("/en/", environ_overrides={"hdh.lang": "en"}):
        render = app.jinja_env.from_string(
            "{{ format_date(d, format='long') }}|{{ format_number(12345.5) }}")
        assert render.render(d=date(2026, 11, 20)) == "20 November 2026|12,345.5"
    with app.test_request_context("/"):
        render = app.jinja_env.from_string("{{ format_date(d, format='long') }}")
        assert render.render(d=date(2026, 11, 20)) == "20 novembre 2026"


@pytest.mark.parametrize("section", SECTIONS)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_section_index_lists_its_pages(client, section, prefix):
    html = client.get(f"{prefix}/{section}").get_data(as_text=True)
    lang = "en" if prefix else "fr"
    for page in LIBRARY.section_pages(lang, section):
        assert f'href="{prefix}/{section}/{page.slug}"' in html


def test_long_pages_have_a_table_of_contents(client):
    html = client.get("/vos-droits/opposition").get_data(as_text=True)
    assert 'class="toc"' in html
    toc = html.split('class="toc"', 1)[1].split("</nav>")[0]
    anchors = re.findall(r'<a href="#([\w-]+)">', toc)
    assert anchors and all(f'id="{anchor}"' in html for anchor in anchors)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_glossary_lists_every_term_with_an_anchor(client, prefix):
    html = client.get(f"{prefix}/comprendre/glossaire").get_data(as_text=True)
    for entry in LIBRARY.glossary["en" if prefix else "fr"]:
        assert f'id="{entry.slug}"' in html


def test_glossary_terms_are_explained_where_they_appear(client):
    html = client.get("/comprendre/snds").get_data(as_text=True)
    assert '<a href="/comprendre/glossaire#' in html
    assert "<abbr title=" in html
    html = client.get("/en/comprendre/snds").get_data(as_text=True)
    assert '<a href="/en/comprendre/glossaire#' in html


def test_internal_links_of_every_page_resolve(client):
    broken = []
    for lang, prefix in (("fr", ""), ("en", "/en")):
        for page in LIBRARY.pages[lang].values():
            html = client.get(f"{prefix}{page.path}").get_data(as_text=True)
            body = html.split('id="contenu"', 1)[1]
            for href in set(re.findall(r'href="(/[^"#]*)', body)):
                if client.get(href).status_code != 200:
                    broken.append(f"{prefix}{page.path} → {href}")
    assert not broken, broken


def test_unknown_page_or_wrong_section_is_404(client):
    assert client.get("/comprendre/nexiste-pas").status_code == 404
    assert client.get("/a-propos/snds").status_code == 404
    assert client.get("/comprendre/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_site_map_lists_every_page(client):
    html = client.get("/plan-du-site").get_data(as_text=True)
    for page in FR_PAGES:
        assert f'href="{page.path}"' in html


def test_markdown_tables_get_a_caption_and_header_scopes():
    from website.content import render_markdown

    html, _ = render_markdown(
        "## Les parties\n\n| Partie | Contenu |\n|---|---|\n| DCIR | soins |\n\n"
        "Tableau : Les bases du catalogue\n\n| Base | Qui |\n|---|---|\n| BNDMR | AP-HP |\n"
        "| ESME | Unicancer |\n")
    first, second = html.split("<table>")[1:]
    assert '<caption id="tableau-legende-1">Les parties</caption>' in first  # heading above
    # from the "Tableau :" line
    assert '<caption id="tableau-legende-2">Les bases du catalogue</caption>' in second
    # each in a region named by its caption that the keyboard reaches and scrolls (a wide
    # table scrolls by itself on a 320 px screen, not the page)
    assert html.count('<div class="table-scroll" role="region" tabindex="0" '
                      'aria-labelledby="tableau-legende-') == 2
    assert html.count("</table></div>") == 2
    assert "<p>Tableau" not in html
    assert '<th scope="col">Base</th>' in second and '<th scope="row">ESME</th>' in second
    assert "<th>" not in html


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_every_table_of_the_content_pages_is_captioned_and_scoped(client, prefix):
    lang = "en" if prefix else "fr"
    tables = 0
    for page in LIBRARY.pages[lang].values():
        html = client.get(f"{prefix}{page.path}").get_data(as_text=True)
        wrapped = re.findall(r'<div class="table-scroll" role="region" tabindex="0" '
                             r'aria-labelledby="[^"]+"><table>', html)
        assert len(wrapped) == html.count("<table"), page.slug  # every table in a region
        for label, table in re.findall(r'<div class="table-scroll" role="region" '
                                       r'tabindex="0" aria-labelledby="([^"]+)"><table>'
                                       r"(.*?)</table></div>", html, re.S):
            tables += 1
            assert re.search(f'<caption id="{label}">[^<]{{5,}}</caption>', table), page.slug
            assert "<th>" not in table and "<td scope" not in table, page.slug
    assert tables >= 2


NEW_GLOSSARY_SLUGS = {"rgaa", "ap-hp", "ars", "inserm", "anrs", "oscour", "esme", "mr",
                      "methodologie-de-reference"}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_glossary_has_the_terms_the_pages_use(lang):
    slugs = {entry.slug for entry in LIBRARY.glossary[lang]}
    assert slugs >= NEW_GLOSSARY_SLUGS, sorted(NEW_GLOSSARY_SLUGS - slugs)
    assert slugs == {entry.slug for entry in LIBRARY.glossary["fr"]}  # same entries fr and en


def _marked(text: str, *entries, proper_names=()) -> str:
    from website.content import render_markdown

    html, _ = render_markdown(text, list(entries), proper_names=tuple(proper_names))
    return html


def test_glossary_matching_ignores_case_for_words_and_follows_declared_variants():
    from website.content import GlossaryEntry

    health = GlossaryEntry(term="données de santé", slug="donnees-de-sante", definition="…")
    pseudo = GlossaryEntry(term="pseudonymisation", slug="pseudonymisation", definition="…",
                           variants=("pseudonymisées",))
    html = _marked("Données de santé : elles sont pseudonymisées.", health, pseudo)
    assert re.search(r'<a href="/comprendre/glossaire#donnees-de-sante"[^>]*>Données de santé</a>',
                     html)
    assert re.search(r'<a href="/comprendre/glossaire#pseudonymisation"[^>]*>pseudonymisées</a>',
                     html)
    # an undeclared form is not guessed
    assert "glossaire#pseudonymisation" not in _marked("Elles sont pseudonymisés.", pseudo)


def test_acronyms_match_only_as_written():
    from website.content import GlossaryEntry

    mr = GlossaryEntry(term="MR", slug="mr", definition="…", expansion="Méthodologie de référence")
    ars = GlossaryEntry(term="ARS", slug="ars", definition="…", expansion="Agence régionale")
    assert "glossaire#" not in _marked("Mr Smith wrote to mr Jones; ars longa.", mr, ars)
    assert "glossaire#" not in _marked("La MR-004 et la MR-005.", mr)  # part of a name
    assert re.search(r'glossaire#mr"[^>]*><abbr title="Méthodologie de référence">MR</abbr>',
                     _marked("Une méthodologie de référence (MR).", mr))


def test_glossary_terms_are_not_linked_inside_proper_names():
    from website.content import GlossaryEntry

    health = GlossaryEntry(term="données de santé", slug="donnees-de-sante", definition="…")
    html = _marked("La Plateforme des données de santé protège vos données de santé.", health,
                   proper_names=["Plateforme des données de santé"])
    assert "Plateforme des données de santé protège" in html  # the name, untouched
    assert re.search(r'vos <a href="/comprendre/glossaire#donnees-de-sante"[^>]*>données de santé',
                     html)


NAME_THEN_LINK = re.compile(
    r"(plateforme|plateforme nationale|système national|espace|espace européen|transparence) "
    r"des <a[^>]*glossaire#donnees-de-sante|(health data|data) <a[^>]*glossaire#|"
    r"<a[^>]*glossaire#donnees-de-sante[^>]*>health data</a> (platform|system|hub)",
    re.IGNORECASE)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_proper_names_are_never_linked_as_glossary_terms(client, prefix):
    lang = "en" if prefix else "fr"
    for page in LIBRARY.pages[lang].values():
        html = client.get(f"{prefix}{page.path}").get_data(as_text=True)
        assert not NAME_THEN_LINK.search(html.split('id="contenu"', 1)[1]), page.slug


def test_a_page_can_opt_out_of_glossary_links(tmp_path):
    from website.content import ContentLibrary, rendered

    for lang in ("fr",):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "glossaire.yml").write_text(
            "- term: SNDS\n  slug: snds\n  definition: …\n", "utf-8")
        for slug, flag in (("avec", "true"), ("sans", "false")):
            (tmp_path / lang / f"{slug}.md").write_text(
                f"---\ntitle: T\nupdated: 2026-11-25\nsection: comprendre\nglossary: {flag}\n"
                "---\nLe SNDS.\n", "utf-8")
    library = ContentLibrary(tmp_path, ("fr",))
    with_links, _ = rendered(library.pages["fr"]["avec"], library.glossary["fr"], "")
    without, _ = rendered(library.pages["fr"]["sans"], library.glossary["fr"], "")
    assert "glossaire#snds" in with_links and "glossaire#snds" not in without
