"""English is complete: every French UI string of every package has an English translation.

The strings are extracted from the code and templates (Babel, with ``babel.cfg``), not read from
the catalogues, so a string added to a template and never extracted is caught too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from website.cli import DOMAINS, untranslated

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "translations").glob("*/en/LC_MESSAGES/messages.po"))


def test_each_package_has_an_english_catalogue():
    domains = {path.parts[-4] for path in CATALOGUES}
    assert {"website"} <= domains


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_extracted_string_has_english(domain: str):
    missing = untranslated(domain)
    assert not missing, (f"{len(missing)} French strings of {domain}/ without English in "
                         f"translations/{domain}/en (run `make translations`, then translate): "
                         f"{missing}")


def test_the_extraction_test_catches_a_string_missing_from_the_catalogue(tmp_path):
    templates = tmp_path / "templates" / "website"
    templates.mkdir(parents=True)
    (templates / "new.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>{{ _("Comprendre") }}</h1>'
        '<p>{{ _("Une phrase ajoutée sans traduction") }}</p>'
        '{% trans %}Un bloc ajouté\n   sans traduction{% endtrans %}{% endblock %}', "utf-8")
    (tmp_path / "labels.py").write_text(
        'from flask_babel import lazy_gettext as _l\nLABEL = _l("Un libellé paresseux oublié")\n',
        "utf-8")
    missing = untranslated("website", folders=[tmp_path])
    assert missing == ["Un bloc ajouté sans traduction", "Un libellé paresseux oublié",
                       "Une phrase ajoutée sans traduction"]


def test_make_translations_leaves_an_up_to_date_catalogue_untouched(tmp_path):
    """Running `make translations` with no string changed must not dirty the tree."""
    import shutil

    from website.cli import run_translations

    shutil.copytree(ROOT / "translations" / "website", tmp_path / "website")
    po = tmp_path / "website" / "en" / "LC_MESSAGES" / "messages.po"
    # Written by another Babel release than the one installed: that alone changes nothing.
    before = re.sub(r"Generated-By: Babel [0-9.]+", "Generated-By: Babel 1.0",
                    po.read_text("utf-8"))
    po.write_text(before, "utf-8")
    assert "POT-Creation-Date" in before and "Babel 1.0" in before
    run_translations(domains=("website",), base=tmp_path)
    assert po.read_text("utf-8") == before


def test_make_translations_records_a_changed_string(tmp_path):
    """A test of the test above: a catalogue that no longer matches the code is rewritten."""
    import shutil

    from website.cli import run_translations

    shutil.copytree(ROOT / "translations" / "website", tmp_path / "website")
    po = tmp_path / "website" / "en" / "LC_MESSAGES" / "messages.po"
    stale = po.read_text("utf-8") + '\nmsgid "Une phrase que le code ne contient pas"\nmsgstr "x"\n'
    po.write_text(stale, "utf-8")
    run_translations(domains=("website",), base=tmp_path)
    assert po.read_text("utf-8") != stale


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-4])
def test_catalogue_is_complete(path: Path):
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    untranslated = [m.id for m in catalogue if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)]
    assert not untranslated, f"{len(untranslated)} strings without English: {untranslated[:10]}"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-4])
def test_placeholders_survive_translation(path: Path):
    import re

    with path.open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for message in catalogue:
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert set(placeholder.findall(source)) == set(placeholder.findall(target)), source


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-4])
def test_catalogue_header_is_not_fuzzy(path: Path):
    """pybabel compile silently skips a catalogue whose header is fuzzy: English would vanish."""
    with path.open("rb") as handle:
        assert not read_po(handle, locale="en").fuzzy


@pytest.mark.parametrize(("path", "english"), [
    ("/en/projets", "The register of projects"),
    ("/en/sources", "Data sources"),
    ("/en/statistiques", "Register statistics"),
    ("/en/opposition", "Opt out of the use of your data"),
    ("/en/opposition/suivi", "Follow my objection"),
])
def test_every_package_speaks_english(client, path, english):
    assert english in client.get(path).get_data(as_text=True)
