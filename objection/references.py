"""What identifies a filing to the person and to the site: its reference (``OPP-7K3M-Q9TX-4``,
with a check character), its follow-up code (derived, never stored: only a keyed hash of it
is), and the submission key that makes the same form sent twice one filing.

The follow-up code is 12 characters drawn by the server (60 random bits), not a password a
person chooses: a slow password hash adds nothing that its length and a secret key do not
give, while it cost 30 ms of CPU and 19 MB of memory on every filing and every look-up (a way
to exhaust the service). Codes are hashed with HMAC-SHA256 under a key derived from
``SECRET_KEY``, which is never in the database: a stolen database alone cannot test a single
guess; with the key too, each code still needs 2^59 tries on average. On line, wrong codes lock
the reference (``objection.followup``). Hashes made before (Argon2) are still recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from objection.identity import Nir
from objection.keys import keyring
from objection.models import Scope

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CHECK_SYMBOLS = ALPHABET + "*~$=U"
CODE_HASH_PREFIX = "hmac-sha256$"
_LEGACY_HASHER = PasswordHasher()  # verifies the Argon2 hashes of filings made before
# Characters people type for the ones the alphabet lacks (Crockford base32).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check_symbol(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_SYMBOLS[value % 37]


def _compact(text: str) -> str:
    """``text`` as typed, upper case, without spaces or dashes, look-alikes folded."""
    return (text or "").upper().replace(" ", "").replace("-", "").translate(_LOOKALIKES)


def new_reference() -> str:
    """``OPP-7K3M-Q9TX-4``: easy to read on the phone, with a check character that catches a
    wrong or swapped character. Drawn until the check is a letter or digit."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(8))
        check = _check_symbol(body)
        if check in ALPHABET:
            return f"OPP-{body[:4]}-{body[4:]}-{check}"


def normalise_reference(raw: str) -> str | None:
    """The reference as typed (spaces, lower case, O for 0…) in canonical form, or None if its
    check character is wrong."""
    text = _compact(raw)
    if text.startswith("0PP"):
        text = "OPP" + text[3:]
    if not text.startswith("OPP") or len(text) != 12:
        return None
    body, check = text[3:11], text[11]
    if any(c not in ALPHABET for c in body) or _check_symbol(body) != check:
        return None
    return f"OPP-{body[:4]}-{body[4:]}-{check}"


def normalise_code(code: str) -> str:
    """A follow-up code as typed, in the form it was hashed in (``XXXX-XXXX-XXXX``)."""
    text = _compact(code)
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


def _code_keys() -> list[bytes]:
    """The keys of follow-up code hashes: from ``SECRET_KEY``, then from each of
    ``SECRET_KEY_FALLBACKS`` (a rotation keeps older hashes readable)."""
    secrets_ = [current_app.config["SECRET_KEY"], *current_app.config.get(
        "SECRET_KEY_FALLBACKS", [])]
    return [hmac.new(secret.encode(), b"hdh:followup-code-hash", hashlib.sha256).digest()
            for secret in secrets_]


def hash_code(code: str) -> str:
    """The stored form of a follow-up code (``normalise_code`` form)."""
    digest = hmac.new(_code_keys()[0], code.encode(), hashlib.sha256).hexdigest()
    return CODE_HASH_PREFIX + digest


def code_matches(stored: str, code: str) -> bool:
    """Whether ``code`` (as typed) is the one ``stored`` was made from; the same work whether
    it is or not (every key is tried)."""
    typed = normalise_code(code)
    if not stored.startswith(CODE_HASH_PREFIX):  # a filing from before: Argon2
        try:
            return _LEGACY_HASHER.verify(stored, typed)
        except (VerificationError, InvalidHashError):
            return False
    expected = stored.removeprefix(CODE_HASH_PREFIX)
    found = False
    for key in _code_keys():
        candidate = hmac.new(key, typed.encode(), hashlib.sha256).hexdigest()
        found |= hmac.compare_digest(candidate, expected)
    return found


def new_submission_token() -> str:
    """A one-time token for the form (bound to the browser session by the view)."""
    return uuid.uuid4().hex


def submission_hash(form_token: str, fingerprint: str) -> str:
    """What identifies one submission: the form's token *and* what was filed with it. The same
    form sent twice is one filing; a form changed after filing (back, "Modifier") is another."""
    return hashlib.sha256(f"{form_token}|{fingerprint}".encode()).hexdigest()


def _followup_code(form_token: str, fingerprint: str) -> str:
    """The follow-up code of a submission, derived from its token (never stored) and the secret
    key, so that a resent or concurrent submission shows the same code. Only its Argon2 hash is
    stored, and the token is not in the database, so the database alone cannot rebuild it."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(),
                      f"followup:{form_token}|{fingerprint}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(12):
        value, index = divmod(value, 32)
        chars.append(ALPHABET[index])
    code = "".join(chars)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


@dataclass(frozen=True)
class Submission:
    """One sending of the form, worked out once from its token and answers: whose objection
    (the pseudonym under the current key), to what, filed by whom; the hash stored to recognise
    it, and its follow-up code."""

    key_id: str
    pseudonym: str
    pseudonyms: frozenset[str]  # under every configured key: look-ups across a key rotation
    scope: str
    project_reference: str | None
    hash: str
    followup_code: str


def submission(form_token: str, nir: Nir, scope: str, project_reference: str | None,
               filer: str) -> Submission:
    """The submission of this form with these answers (the NIR is pseudonymised here, once).
    The answers may not have been checked yet: a form sent again is recognised before its
    checks run (a supporting document already filed is not asked for twice)."""
    candidates = keyring().candidates(nir.value)  # the current key first
    key_id, pseudonym = candidates[0]
    project = (project_reference or "").upper() or None if scope == Scope.PROJECT else None
    fingerprint = f"{pseudonym}|{scope}|{project or ''}|{filer}"
    return Submission(key_id=key_id, pseudonym=pseudonym,
                      pseudonyms=frozenset(p for _, p in candidates), scope=scope,
                      project_reference=project, hash=submission_hash(form_token, fingerprint),
                      followup_code=_followup_code(form_token, fingerprint))
