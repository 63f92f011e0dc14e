"""The words of French text as every search backend cuts them: tokens, accent folding, stop
words, and the words shaped like a project's reference.

Both backends tokenise with the same pattern (``TOKEN``) and drop the same stop words from a
query, so a query means the same on either; each then stems with its own Snowball French
stemmer (Whoosh's, or PostgreSQL's ``french_stem``). The stop words are Whoosh's French list
(the library is a dependency of the project whatever the backend), folded, plus elisions and
common short words.
"""

from __future__ import annotations

import re

from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map


def fold(text: str) -> str:
    """``text`` without accents (``hôpital`` → ``hopital``)."""
    return text.translate(accent_map)


STOPWORDS = frozenset(
    {fold(w) for w in stopwords_for_language("fr")}
    | {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "le", "la", "les", "un", "une", "au",
       "aux", "ou", "pour", "par", "sur", "dans", "chez", "avec", "sans", "sous", "entre",
       "vers", "the", "of", "and", "in"}
)

# A token: what the analysers index and search (letters and digits; "l'hôpital" is two).
TOKEN = re.compile(r"\w+", re.UNICODE)
# A word of a query as the user wrote it ("l'hôpital", "covid-19", "HDH-2024-0123" are one).
WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
# A word shaped like a project's reference, with or without its "HDH-" prefix.
REFERENCE_WORD = re.compile(r"^(?:HDH-)?(\d{4}-\d{4})$", re.IGNORECASE)


def reference_of(word: str) -> str | None:
    """The reference ``word`` names (``2022-4603`` and ``hdh-2022-4603`` name
    ``HDH-2022-4603``), or None."""
    match = REFERENCE_WORD.match(word)
    return f"HDH-{match.group(1)}" if match else None


def is_stopword(token: str) -> bool:
    return fold(token.lower()) in STOPWORDS


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` that are not stop words, as written (case and accents kept)."""
    return [token for token in TOKEN.findall(text) if not is_stopword(token)]
