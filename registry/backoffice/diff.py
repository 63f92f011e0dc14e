"""A readable difference between two versions of a project: per field, the old and new value,
and for text, the words removed and added (``difflib`` on words), so an editor sees at a
glance what a save changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from registry import fields
from registry.revisions import compare_revisions


@dataclass(frozen=True)
class Piece:
    text: str
    change: str  # "same", "removed" or "added"


@dataclass(frozen=True)
class FieldChange:
    label: str
    pieces: list[Piece]


def shown(value: Any) -> str:
    """A value as words: lists joined, yes/no, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return " ; ".join(shown(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} : {shown(item)}" for key, item in value.items() if item)
    return str(value)


def word_diff(old: str, new: str) -> list[Piece]:
    """The words of ``old`` and ``new``, marked same, removed or added."""
    before, after = old.split(), new.split()
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "equal":
            pieces.append(Piece(" ".join(before[a1:a2]), "same"))
            continue
        if a2 > a1:
            pieces.append(Piece(" ".join(before[a1:a2]), "removed"))
        if b2 > b1:
            pieces.append(Piece(" ".join(after[b1:b2]), "added"))
    return pieces


def changes(old: dict | None, new: dict) -> list[FieldChange]:
    """What changed from ``old`` (None: the first version) to ``new``, field by field."""
    found = []
    for name, before, after in compare_revisions(old or {}, new):
        found.append(FieldChange(fields.label(name), word_diff(shown(before) if old else "",
                                                               shown(after))))
    return found
