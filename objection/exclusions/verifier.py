#!/usr/bin/env python3
"""Check exclusion lists (docs/exclusion-format.md): signature, body hash, line count, order,
sequence continuity, and that a chain of deltas applied to a full export gives the next full.

Standalone on purpose: the data platform runs it with nothing but Python 3.11 and
``cryptography`` installed (``python verifier.py --public-key signing-key.pem FILE...``). The
site's own ``flask objection verify`` uses the same code, so there is one reading of the format.

Files are read as streams, line by line: memory stays small whatever their size, and applying
deltas is a merge of sorted streams, never a set held in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

MAGIC = "HDH-EXCLUSIONS"
FORMAT_VERSION = 1
SIGNATURE_CONTEXT = b"HDH-EXCLUSIONS-SIGNATURE-1\n"  # signed: this, then SHA-256 of the file
HEADER_FIELDS = ("sequence", "previous", "kind", "generated-at", "pseudonym-key",
                 "signing-key", "lines", "body-sha256", "audit-head")
KINDS = ("full", "delta")
# Hexadecimal written with letters only (YubiKey's "modhex"): no digit can appear, so no run of
# digits shaped like a NIR can either, in any line of any file.
HEX_DIGITS = "0123456789abcdef"
MODHEX_DIGITS = "cbdefghijklnrtuv"
_TO_MODHEX = str.maketrans(HEX_DIGITS, MODHEX_DIGITS)
_FROM_MODHEX = str.maketrans(MODHEX_DIGITS, HEX_DIGITS)
PSEUDONYM = re.compile(r"[cbdefghijklnrtuv]{64}")
SCOPE = re.compile(r"ALL|HDH-(?:19|20)[0-9]{2}-[0-9]{4}")
DATE = re.compile(r"(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])")
LINE = re.compile(rf"([+-]);({PSEUDONYM.pattern});({SCOPE.pattern});({DATE.pattern})")
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
NUMBER = re.compile(r"0|[1-9][0-9]{0,11}")
# What a NIR looks like, with the separators people type (the site's log masking uses the same
# shape): no line of a file may ever match it.
_SEP = r"[\s./_\-\u2010-\u2015\u2212\ufe63\uff0d]?"
NIR_SHAPE = re.compile(r"(?<![0-9])[1-478]" + rf"(?:{_SEP}[0-9]){{4}}"
                       + rf"{_SEP}(?:[0-9]{_SEP}[0-9]|2{_SEP}[ABab])"
                       + rf"(?:{_SEP}[0-9]){{6,8}}" + r"(?![0-9])")
CHUNK = 1 << 16


def to_modhex(hex_text: str) -> str:
    return hex_text.translate(_TO_MODHEX)


def from_modhex(modhex_text: str) -> str:
    return modhex_text.translate(_FROM_MODHEX)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """The signing key's name in headers: the first 16 bytes of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return to_modhex(hashlib.sha256(raw).hexdigest()[:32])


def signed_message(file_digest: bytes) -> bytes:
    """What the Ed25519 signature covers: a fixed context, then the SHA-256 of the whole file
    (so signing and checking stream the file instead of holding it in memory)."""
    return SIGNATURE_CONTEXT + file_digest


class ExclusionFileError(ValueError):
    """A file that must not be applied, with why (in French, for the operator)."""


@dataclass(frozen=True)
class Header:
    sequence: int
    previous: int
    kind: str
    generated_at: str
    pseudonym_key: str
    signing_key: str
    lines: int
    body_sha256: str  # modhex
    audit_last_id: int
    audit_last_hash: str  # modhex

    def text(self) -> str:
        """The header as written in the file, ending with its empty line."""
        values = [str(self.sequence), str(self.previous), self.kind, self.generated_at,
                  self.pseudonym_key, self.signing_key, str(self.lines), self.body_sha256,
                  f"{self.audit_last_id} {self.audit_last_hash}"]
        return (f"{MAGIC} {FORMAT_VERSION}\n"
                + "".join(f"{name}: {value}\n" for name, value in
                          zip(HEADER_FIELDS, values, strict=True)) + "\n")


def parse_header(lines: Iterable[str]) -> Header:
    """The header from the file's first lines (text, without their line ends)."""
    iterator = iter(lines)
    first = next(iterator, None)
    if first != f"{MAGIC} {FORMAT_VERSION}":
        raise ExclusionFileError(f"première ligne inattendue : ce n'est pas un fichier "
                                 f"{MAGIC} version {FORMAT_VERSION}")
    values: dict[str, str] = {}
    for expected in HEADER_FIELDS:
        line = next(iterator, None)
        name, sep, value = (line or "").partition(": ")
        if line is None or not sep or name != expected:
            raise ExclusionFileError(f"en-tête : le champ « {expected} » manque ou n'est pas "
                                     "à sa place")
        values[name] = value
    if next(iterator, None) != "":
        raise ExclusionFileError("en-tête : une ligne vide doit le terminer")
    audit_id, _, audit_hash = values["audit-head"].partition(" ")
    checks = [("sequence", NUMBER), ("previous", NUMBER), ("lines", NUMBER),
              ("generated-at", MOMENT), ("pseudonym-key", KEY_ID)]
    for name, pattern in checks:
        if not pattern.fullmatch(values[name]):
            raise ExclusionFileError(f"en-tête : « {name} » est mal formé")
    if values["kind"] not in KINDS:
        raise ExclusionFileError("en-tête : « kind » doit être full ou delta")
    if not (re.fullmatch(r"[cbdefghijklnrtuv]{64}", values["body-sha256"])
            and re.fullmatch(r"[cbdefghijklnrtuv]{32}", values["signing-key"])
            and NUMBER.fullmatch(audit_id) and re.fullmatch(r"[cbdefghijklnrtuv]{64}",
                                                              audit_hash)):
        raise ExclusionFileError("en-tête : une empreinte est mal formée")
    header = Header(int(values["sequence"]), int(values["previous"]), values["kind"],
                    values["generated-at"], values["pseudonym-key"], values["signing-key"],
                    int(values["lines"]), values["body-sha256"], int(audit_id), audit_hash)
    if header.kind == "delta" and header.previous != header.sequence - 1:
        raise ExclusionFileError("en-tête : une liste différentielle suit la précédente "
                                 "(previous = sequence - 1)")
    return header


# --------------------------------------------------------------------------- one file

@dataclass(frozen=True)
class Checked:
    """A file that passed every check."""

    path: Path
    header: Header


def _read_signature(path: Path) -> tuple[str, bytes]:
    try:
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ExclusionFileError(f"signature illisible ({path.name})") from error
    parts = text.split(" ")
    if len(parts) != 3 or parts[0] != "ed25519" or not re.fullmatch(
            r"[cbdefghijklnrtuv]{32}", parts[1]) or not re.fullmatch(
            r"[cbdefghijklnrtuv]{128}", parts[2]):
        raise ExclusionFileError(f"signature mal formée ({path.name})")
    return parts[1], bytes.fromhex(from_modhex(parts[2]))


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


def read_lines(path: Path) -> Iterator[str]:
    """The file's lines without their ``\\n``; every line must end with one, in ASCII."""
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                raise ExclusionFileError("la dernière ligne n'est pas terminée par un saut de "
                                         "ligne (fichier tronqué ?)")
            try:
                yield raw[:-1].decode("ascii")
            except UnicodeDecodeError as error:
                raise ExclusionFileError("caractère hors ASCII") from error


def body_lines(path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(sign, scope, pseudonym, date) of each body line, in file order, after the header."""
    lines = read_lines(path)
    for line in lines:
        if line == "":
            break
    for line in lines:
        match = LINE.fullmatch(line)
        if match is None:
            raise ExclusionFileError("ligne mal formée dans le corps")
        sign, pseudonym, scope, day = match.groups()
        yield sign, scope, pseudonym, day


def check_file(path: Path, public_key: Ed25519PublicKey) -> Checked:
    """Every check one file allows: its signature over the whole file (``FILE.sig``), its
    header, the body's hash and line count, each line's form, the sort order (scope, then
    pseudonym, bytewise; one line per pseudonym and scope), and that no line looks like a
    NIR. Raises ExclusionFileError with the first problem."""
    key_name, signature = _read_signature(signature_path(path))
    if key_name != fingerprint(public_key):
        raise ExclusionFileError("signé par une autre clé que la clé publique donnée")
    try:
        public_key.verify(signature, signed_message(_file_digest(path)))
    except InvalidSignature as error:
        raise ExclusionFileError("signature invalide : le fichier a été modifié ou n'a pas "
                                 "été signé par cette clé") from error
    lines = read_lines(path)
    header = parse_header(lines)
    if header.signing_key != key_name:
        raise ExclusionFileError("l'en-tête nomme une autre clé de signature")
    body = hashlib.sha256()
    count = 0
    previous: tuple[str, str] | None = None
    for line in lines:
        body.update(line.encode("ascii") + b"\n")
        count += 1
        if NIR_SHAPE.search(line):
            raise ExclusionFileError(f"ligne {count} : a la forme d'un NIR")
        match = LINE.fullmatch(line)
        if match is None:
            raise ExclusionFileError(f"ligne {count} mal formée")
        sign, pseudonym, scope, _day = match.groups()
        if header.kind == "full" and sign != "+":
            raise ExclusionFileError(f"ligne {count} : une liste complète n'a que des « + »")
        key = (scope, pseudonym)
        if previous is not None and key <= previous:
            raise ExclusionFileError(f"ligne {count} : lignes dans le désordre ou en double "
                                     "(tri par portée puis pseudonyme)")
        previous = key
    if NIR_SHAPE.search(header.text()):
        raise ExclusionFileError("l'en-tête a la forme d'un NIR")
    if count != header.lines:
        raise ExclusionFileError(f"{count} ligne(s) au lieu des {header.lines} annoncées")
    if to_modhex(body.hexdigest()) != header.body_sha256:
        raise ExclusionFileError("l'empreinte du corps ne correspond pas à l'en-tête")
    return Checked(path, header)


# --------------------------------------------------------------------------- a chain

Entry = tuple[str, str, str]  # (scope, pseudonym, date)


def _full_entries(path: Path) -> Iterator[Entry]:
    for _sign, scope, pseudonym, day in body_lines(path):
        yield scope, pseudonym, day


def apply_delta(state: Iterator[Entry], delta: Path) -> Iterator[Entry]:
    """``state`` (sorted) with the delta's lines applied, still sorted: a merge of two sorted
    streams. A "+" for a line already there, or a "-" for one that is not, is an error."""
    changes = body_lines(delta)
    current = next(state, None)
    change = next(changes, None)
    while current is not None or change is not None:
        if change is None or (current is not None and current[:2] < (change[1], change[2])):
            yield current  # type: ignore[misc]
            current = next(state, None)
            continue
        sign, scope, pseudonym, day = change
        if current is not None and current[:2] == (scope, pseudonym):
            if sign == "+":
                raise ExclusionFileError(f"{delta.name} : ajoute une ligne déjà présente")
            if current[2] != day:
                raise ExclusionFileError(f"{delta.name} : retire une ligne avec une autre "
                                         "date d'effet")
            current = next(state, None)
        elif sign == "-":
            raise ExclusionFileError(f"{delta.name} : retire une ligne absente")
        else:
            yield scope, pseudonym, day
        change = next(changes, None)


def check_chain(paths: list[Path], public_key: Ed25519PublicKey) -> list[str]:
    """Check each file, then the chain in the order given: each delta follows the file before
    it (``previous`` equals its sequence, same pseudonym key), and each full export equals
    what the files before it build. The first file is a full export, or the first delta
    (previous 0, built on the empty list). A full export with a higher sequence (after a key
    rotation) starts the chain again. Returns what was proved, one sentence per step; raises
    ExclusionFileError with the first problem."""
    checked = [check_file(path, public_key) for path in paths]
    proved = [f"{item.path.name} : signature, empreinte, nombre de lignes et tri valides "
              f"(n° {item.header.sequence}, {item.header.kind})" for item in checked]
    if not checked:
        return proved
    first = checked[0]
    if first.header.kind == "delta" and first.header.previous != 0:
        raise ExclusionFileError(f"{first.path.name} : une chaîne commence par une liste "
                                 "complète ou par la liste n° 1")
    built_from: list[Checked] = [first]
    sequence, key = first.header.sequence, first.header.pseudonym_key
    for item in checked[1:]:
        header = item.header
        if header.kind == "delta":
            if header.previous != sequence:
                raise ExclusionFileError(
                    f"{item.path.name} : suit la liste n° {header.previous}, pas la n° "
                    f"{sequence} (liste manquante ou fichiers dans le désordre)")
            if header.pseudonym_key != key:
                raise ExclusionFileError(f"{item.path.name} : autre clé de pseudonymisation "
                                         "que la liste précédente")
            sequence = header.sequence
            built_from.append(item)
            continue
        if header.sequence < sequence or (header.sequence > sequence
                                          and header.previous != sequence):
            raise ExclusionFileError(f"{item.path.name} : liste complète n° "
                                     f"{header.sequence} hors de la suite (dernière : "
                                     f"n° {sequence})")
        if header.sequence == sequence:
            if header.pseudonym_key != key:
                raise ExclusionFileError(f"{item.path.name} : autre clé de pseudonymisation")
            _compare(built_from, item)
            proved.append(f"{item.path.name} : égale à {built_from[0].path.name} suivie de "
                          f"{len(built_from) - 1} liste(s) différentielle(s)")
        sequence, key = header.sequence, header.pseudonym_key
        built_from = [item]
    return proved


def _compare(built_from: list[Checked], full: Checked) -> None:
    first = built_from[0]
    state: Iterator[Entry] = (_full_entries(first.path) if first.header.kind == "full"
                              else apply_delta(iter(()), first.path))
    for delta in built_from[1:]:
        state = apply_delta(state, delta.path)
    expected = _full_entries(full.path)
    for number, (built, wanted) in enumerate(zip(state, expected, strict=False), start=1):
        if built != wanted:
            raise ExclusionFileError(f"{full.path.name} : la ligne {number} diffère de ce que "
                                     "donnent les listes précédentes")
    if next(state, None) is not None or next(expected, None) is not None:
        raise ExclusionFileError(f"{full.path.name} : pas le même nombre de lignes que ce que "
                                 "donnent les listes précédentes")


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ExclusionFileError("la clé publique n'est pas une clé Ed25519")
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Vérifie des listes d'exclusion (signature, empreinte, nombre de lignes, "
                    "tri, suite des numéros) et qu'une liste complète suivie de listes "
                    "différentielles donne la liste complète suivante.")
    parser.add_argument("--public-key", required=True, type=Path,
                        help="la clé publique de signature (PEM)")
    parser.add_argument("files", nargs="+", type=Path,
                        help="les fichiers, dans l'ordre de la chaîne (FICHIER.sig à côté)")
    args = parser.parse_args(argv)
    try:
        for sentence in check_chain(args.files, load_public_key(args.public_key)):
            print(sentence)
    except (ExclusionFileError, OSError, ValueError) as error:
        print(f"REFUSÉ : {error}", file=sys.stderr)
        return 1
    print("Tout est valide.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
