"""English is complete: every French UI string of every package has an English translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "translations").glob("*/en/LC_MESSAGES/messages.po"))


def test_each_package_has_an_english_catalogue():
    domains = {path.parts[-4] for path in CATALOGUES}
    assert {"website"} <= domains


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
    ("/en/opposition", "Object to the use of your data"),
    ("/en/opposition/suivi", "Follow my objection"),
])
def test_every_package_speaks_english(client, path, english):
    assert english in client.get(path).get_data(as_text=True)
