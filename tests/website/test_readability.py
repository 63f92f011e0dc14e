"""Plain French is tested: every French page must be easy to read.

Score: Kandel–Moles, the French adaptation of Flesch's reading ease,
``207 − 1.015 × words per sentence − 73.6 × syllables per word``, computed by ``textstat`` with
its French settings (the test checks those constants, so an upgrade cannot silently change the
formula). Higher is easier.

Sources:
* R. Flesch, "A new readability yardstick", Journal of Applied Psychology 32 (3), 1948,
  pp. 221–233: the reading-ease formula and its bands (60–70 "standard", 70–80 "fairly easy",
  80–90 "easy").
* L. Kandel and A. Moles, « Application de l'indice de Flesch à la langue française », Cahiers
  d'études de radio-télévision, n° 19, 1958, pp. 253–274: the French constants above.
* COSLA (Comité d'orientation pour la simplification du langage administratif, set up by the
  French government in 2001): its « Lexique administratif » (everyday words for administrative
  terms) and its « Guide pratique de la rédaction administrative » (2002): short sentences, one
  idea per sentence, everyday words, the reader addressed as « vous ».
* Inclusion Europe, « L'information pour tous : règles européennes pour une information facile
  à lire et à comprendre » (2009, French version by Unapei): the FALC rules — very short
  sentences, one idea per sentence, one sentence per line, no abbreviations left unexplained.

None of these guides gives numbers for sentence length or score. The thresholds below are the
team's own reading of that qualitative guidance, and Flesch's bands are used with the
Kandel–Moles constants by convention (textstat does the same); they are not official values:
* normal pages: mean ≤ 15 words per sentence, none over 30, Kandel–Moles ≥ 60 ("standard");
* easy-to-read (FALC) pages: mean ≤ 8 words, none over 15, Kandel–Moles ≥ 80 ("easy").

What is measured: every sentence a reader reads — paragraphs, list items, table cells (each
cell counts as a sentence) and table captions. Headings and table header cells are labels, not
sentences: they are counted in the score (their words are read) but not in the sentence-length
limits, where their shortness would hide long sentences elsewhere.
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


def _clean(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]", "", text).strip()


def _as_sentence(text: str) -> str:
    return text if text[-1] in ".!?:;…" else text + "."


def split_text(markdown: str) -> tuple[str, str]:
    """(sentences, labels) of a page: what a reader reads as sentences — paragraph lines, list
    items, table cells — one per line; and headings and table header cells, one per line."""
    sentences, labels = [], []
    in_code = False
    table_row = 0
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code or not stripped:
            table_row = 0 if not stripped else table_row
            continue
        if stripped.startswith("#"):
            labels.append(_as_sentence(_clean(stripped.lstrip("#"))))
            continue
        if stripped.startswith("|"):
            table_row += 1
            cells = [_clean(cell) for cell in stripped.strip("|").split("|")]
            if table_row == 2 or all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                continue  # the separator row
            target = labels if table_row == 1 else sentences
            target.extend(_as_sentence(cell) for cell in cells if cell)
            continue
        table_row = 0
        text = _clean(re.sub(r"^([-*]|\d+\.)\s+", "", stripped))
        if text:
            sentences.append(_as_sentence(text))
    return "\n".join(sentences), "\n".join(labels)


def plain_text(markdown: str) -> str:
    """The sentences a reader reads (see ``split_text``)."""
    return split_text(markdown)[0]


def measure(text: str, labels: str = "") -> Readability:
    """Score ``text`` and ``labels`` together; sentence lengths of ``text`` only."""
    textstat.set_lang("fr")
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    lengths = [len(_WORD.findall(s)) for s in sentences]
    longest_index = max(range(len(lengths)), key=lengths.__getitem__)
    return Readability(
        score=textstat.flesch_reading_ease(f"{text}\n{labels}".strip().replace("\n", " ")),
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
    result = measure(*split_text(body))
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


def test_table_cells_and_headings_are_read_too():
    page = ("## Un titre\n\nUne phrase simple.\n\n| Donnée | Durée |\n|---|---|\n"
            "| Le code | " + CONVOLUTED + " |\n")
    sentences, labels = split_text(page)
    assert "Un titre." in labels and "Donnée." in labels and "Durée." in labels
    assert "Le code." in sentences.splitlines() and "Une phrase simple." in sentences.splitlines()
    assert "|" not in sentences and "---" not in sentences
    found = problems(measure(sentences, labels))
    assert any("sentence of" in f for f in found), found  # the long cell is caught
