"""``flask translate update|compile``: one catalogue per package, French is the source."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from core.config import PROJECT_ROOT

translate_cli = AppGroup("translate", help="Catalogues de traduction (Babel).")

DOMAINS = {
    # catalogue → folders whose strings it holds
    "website": ["website", "core"],
    "staff": ["staff"],
    "registry": ["registry"],
    "objection": ["objection"],
}
# gettext functions besides Babel's defaults (_, gettext, ngettext, …): lazy strings.
EXTRA_KEYWORDS = ("_l", "N_")
BABEL_CFG = PROJECT_ROOT / "babel.cfg"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)  # noqa: S603


def run_translations(extract: bool = True, compile_only: bool = False,
                     domains: tuple[str, ...] = (), base: Path = TRANSLATIONS_DIR) -> None:
    """Extract each package's strings into its catalogue, update English, compile.

    Run twice with no string changed, it leaves the English catalogues byte for byte as they
    were (``--ignore-pot-creation-date``: the template's creation date, new at each extraction,
    is not copied into them), so ``make translations`` does not dirty the tree. Nor does a
    new Babel release: a catalogue whose only change is the ``Generated-By`` header is kept
    as it was.
    """
    keywords = [arg for keyword in EXTRA_KEYWORDS for arg in ("-k", keyword)]
    for domain, folders in DOMAINS.items():
        if domains and domain not in domains:
            continue
        directory = base / domain
        pot = directory / "messages.pot"
        po = directory / "en" / "LC_MESSAGES" / "messages.po"
        if not compile_only and extract:
            directory.mkdir(parents=True, exist_ok=True)
            _pybabel("extract", "-F", str(BABEL_CFG), *keywords,
                     "--no-location", "--sort-output", "-o", str(pot),
                     *[str(PROJECT_ROOT / f) for f in folders])
            if po.exists():
                before = po.read_text("utf-8")
                _pybabel("update", "-i", str(pot), "-d", str(directory), "-l", "en",
                         "--no-fuzzy-matching", "--ignore-pot-creation-date")
                if _without_generator(po.read_text("utf-8")) == _without_generator(before):
                    po.write_text(before, "utf-8")
            else:
                _pybabel("init", "-i", str(pot), "-d", str(directory), "-l", "en")
        if po.exists():
            _pybabel("compile", "-d", str(directory), "-l", "en", "--statistics")


def _without_generator(catalogue: str) -> str:
    """A catalogue's text without its ``Generated-By`` header line (the Babel version)."""
    return re.sub(r'^"Generated-By: [^"\n]*"\n', "", catalogue, flags=re.MULTILINE)


def extract_messages(folders: list[Path]):
    """The messages of ``folders`` as ``pybabel extract`` finds them (same ``babel.cfg`` and
    keywords), in memory: a ``babel.messages.catalog.Catalog``."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(BABEL_CFG))
    keywords = dict(DEFAULT_KEYWORDS, **dict.fromkeys(EXTRA_KEYWORDS))
    catalogue = Catalog()
    for folder in folders:
        for filename, lineno, message, comments, context in extract_from_dir(
                str(folder), method_map, options_map, keywords=keywords,
                strip_comment_tags=True):
            catalogue.add(message, None, [(filename, lineno)], auto_comments=comments,
                          context=context)
    return catalogue


def untranslated(domain: str, folders: list[Path] | None = None,
                 base: Path = TRANSLATIONS_DIR) -> list[str]:
    """French strings of ``domain``'s folders (or of ``folders``) that its English catalogue
    lacks, leaves empty or marks fuzzy; an empty list when English is complete."""
    from babel.messages.pofile import read_po

    folders = folders or [PROJECT_ROOT / folder for folder in DOMAINS[domain]]
    po_path = base / domain / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        english = read_po(handle, locale="en")
    missing = []
    for message in extract_messages(folders):
        if not message.id:
            continue
        found = english.get(message.id, context=message.context)
        strings = (found.string if isinstance(found.string, tuple) else (found.string,)
                   ) if found is not None else ("",)
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return sorted(missing)


@translate_cli.command("update")
@click.option("--domain", "domains", multiple=True, type=click.Choice(sorted(DOMAINS)),
              help="Only this package's catalogue (repeatable); all by default.")
def translate_update(domains: tuple[str, ...]) -> None:
    """Extract new strings and merge them into the English catalogues, then compile."""
    run_translations(domains=domains)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile the English catalogues (.po → .mo)."""
    run_translations(compile_only=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(translate_cli)


