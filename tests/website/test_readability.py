"""Plain French is tested: every French page must be easy to read.

Score: Kandel–Moles (1958), the French adaptation of Flesch reading ease,
``207 − 1.015 × words per sentence − 73.6 × syllables per word``, computed by ``textstat`` with
its French settings (the test checks those constants, so an upgrade cannot silently change the
formula). Higher is easier; 60–70 is "standard", 70–80 "fairly easy", 80+ "easy".

Thresholds and where they come from:
* The French administration's plain-language guidance (DINUM, "Guide de rédaction" of the
  Comité pour la modernisation du langage administratif, and the "Lisibilité" recommendations
  of design.numerique.gouv.fr) asks for one idea per sentence and sentences of about 15 words,
  rarely more than 20 to 25: mean ≤ 15 words, none over 30.
* Easy-to-read pages (FALC) follow Inclusion Europe's "Information pour tous" rules: very short
  sentences, one idea per sentence, one sentence per line: mean ≤ 8 words, none over 15, score
  ≥ 80.
* Normal pages: Kandel–Moles ≥ 60 ("standard", what a general audience reads without effort).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import textstat
import yaml

ROOT = Path(__file__).resolve().parents[2]
FRENCH_PAGES = sorted((ROOT / "content" / "fr").glob("*.md"))

MIN_SCORE = 60
MAX_MEAN_WORDS = 15
MAX_SENTENCE_WORDS = 30
EASY_MIN_SCORE = 80
EASY_MAX_MEAN_WORDS = 8
EASY_MAX_SENTENCE_WORDS = 15

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[\wÀ-ÿ'’-]+")


@dataclass
class Readability:
    score: float
    mean_words: float
    longest_words: int
    longest: str


def plain_text(markdown: str) -> str:
    """The sentences a reader reads: no headings, tables, links targets or list markers.

    Headings are dropped (they are labels, not sentences); every list item and paragraph line
    ends a sentence even without a full stop, as a reader perceives it.
    """
    lines = []
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "|", "```")):
            continue
        stripped = re.sub(r"^([-*]|\d+\.)\s+", "", stripped)
        stripped = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", stripped)
        stripped = re.sub(r"[*_`]", "", stripped)
        if stripped[-1] not in ".!?:;…":
            stripped += "."
        lines.append(stripped)
    return "\n".join(lines)


def measure(text: str) -> Readability:
    textstat.set_lang("fr")
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    lengths = [len(_WORD.findall(s)) for s in sentences]
    longest_index = max(range(len(lengths)), key=lengths.__getitem__)
    return Readability(
        score=textstat.flesch_reading_ease(text.replace("\n", " ")),
        mean_words=sum(lengths) / len(lengths),
        longest_words=lengths[longest_index],
        longest=sentences[longest_index],
    )


def problems(result: Readability, easy: bool = False) -> list[str]:
    min_score = EASY_MIN_SCORE if easy else MIN_SCORE
    max_mean = EASY_MAX_MEAN_WORDS if easy else MAX_MEAN_WORDS
    max_sentence = EASY_MAX_SENTENCE_WORDS if easy else MAX_SENTENCE_WORDS
    found = []
    if result.score < min_score:
        found.append(f"Kandel–Moles score {result.score:.1f} < {min_score}")
    if result.mean_words > max_mean:
        found.append(f"mean sentence length {result.mean_words:.1f} words > {max_mean}")
    if result.longest_words > max_sentence:
        found.append(f"a sentence of {result.longest_words} words > {max_sentence}: "
                     f"« {result.longest.strip()} »")
    return found


def _page(path: Path) -> tuple[dict, str]:
    _, front, body = path.read_text(encoding="utf-8").split("---", 2)
    return yaml.safe_load(front), body


def test_textstat_uses_the_kandel_moles_constants():
    from textstat.backend.utils.constants import LANG_CONFIGS

    assert LANG_CONFIGS["fr"] == {"fre_base": 207, "fre_sentence_length": 1.015,
                                  "fre_syll_per_word": 73.6}


@pytest.mark.parametrize("path", FRENCH_PAGES, ids=lambda p: p.stem)
def test_french_page_is_plain_language(path: Path):
    meta, body = _page(path)
    result = measure(plain_text(body))
    found = problems(result, easy=bool(meta.get("easy_read")))
    assert not found, f"{path.name}: " + "; ".join(found)


def test_glossary_definitions_are_plain_language():
    entries = yaml.safe_load((ROOT / "content" / "fr" / "glossaire.yml").read_text("utf-8"))
    text = "\n".join(entry["definition"] for entry in entries)
    assert not problems(measure(text)), problems(measure(text))


CONVOLUTED = (
    "Dans l'hypothèse où la personne concernée souhaiterait procéder à l'exercice de son droit "
    "d'opposition relativement à la réutilisation des données à caractère personnel la "
    "concernant, il lui appartiendrait de transmettre, préalablement à toute mise en œuvre "
    "effective de ladite opposition, l'ensemble des justificatifs administratifs nécessaires à "
    "l'établissement de son identité, conformément aux dispositions législatives et "
    "réglementaires applicables en la matière, sous réserve de l'appréciation souveraine de "
    "l'administration compétente quant à la recevabilité de sa demande."
)
PLAIN = ("Vous pouvez refuser que vos données servent à la recherche. C'est gratuit. "
         "Vos soins ne changent pas. Remplissez le formulaire en ligne.")


def test_the_test_rejects_convoluted_french():
    found = problems(measure(CONVOLUTED))
    assert len(found) >= 2, found
    assert any("Kandel–Moles" in f for f in found)
    assert any("sentence of" in f for f in found)


def test_the_test_accepts_plain_french():
    assert problems(measure(PLAIN)) == []
    assert problems(measure(PLAIN), easy=True) == []


def test_front_matter_is_complete_and_pages_have_an_english_twin():
    for path in FRENCH_PAGES:
        meta, _ = _page(path)
        assert {"title", "summary", "updated", "order", "section"} <= set(meta), path.name
        twin = ROOT / "content" / "en" / path.name
        assert twin.exists(), f"{path.name} has no English version"
        english, _ = _page(twin)
        assert set(english) == set(meta), path.name
