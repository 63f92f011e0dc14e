"""Staff passwords: Argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommendation), and the rules a new password must pass.

Rules (ANSSI's recommendations for passwords protected by a second factor, and NIST SP 800-63B
§5.1.1.2): at least 12 characters, at most 128; not one of the 10,000 most common passwords,
nor one of them with digits or symbols added around it ("motdepasse2024!"), nor common
words and numbers joined ("soleil-soleil-2024"), nor only digits; not the person's
e-mail address or name. No forced mix of character kinds and no forced periodic change: they
push people towards predictable patterns (NIST, ANSSI).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_hasher = PasswordHasher()
# A hash of nothing anyone types: an unknown address costs one verification too.
_DUMMY_HASH = _hasher.hash("unknown-account-dummy-password")
_AROUND = re.compile(r"^[\W\d_]+|[\W\d_]+$")

MESSAGES = {
    "short": _l("Le mot de passe doit faire au moins 12 caractères. Une phrase de quelques "
                "mots est facile à retenir."),
    "long": _l("Le mot de passe doit faire au plus 128 caractères."),
    "common": _l("Ce mot de passe fait partie des plus utilisés : il serait deviné vite. "
                 "Choisissez-en un autre."),
    "personal": _l("Le mot de passe ne doit contenir ni votre adresse électronique ni votre "
                   "nom."),
}


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    """Whether ``password`` (in lower case), or its letters without the digits and symbols
    around them, is a common password."""
    lowered = password.lower()
    stripped = _AROUND.sub("", lowered)
    common = common_passwords()
    if lowered in common or (len(stripped) >= 4 and stripped in common):
        return True
    if len(set(lowered)) <= 3 or not stripped:  # "aaaaaaaaaaaa", only digits and symbols
        return True
    pieces = [piece for piece in re.split(r"[\W_]+", lowered) if piece]
    return all(piece.isdigit() or piece in common for piece in pieces)  # "soleil-soleil"


def problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` cannot be used (a French message), or None."""
    if len(password) < MIN_LENGTH:
        return str(MESSAGES["short"])
    if len(password) > MAX_LENGTH:
        return str(MESSAGES["long"])
    if is_common(password):
        return str(MESSAGES["common"])
    lowered = password.lower()
    local = email.lower().partition("@")[0]
    words = [local, *(part for part in re.split(r"\W+", name.lower()) if len(part) >= 4)]
    if any(word and len(word) >= 4 and word in lowered for word in words):
        return str(MESSAGES["personal"])
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash costs a verification all the same."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters (rehashed at the next login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False
