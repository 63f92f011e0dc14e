"""Encryption of the second-factor secrets (AES-256-GCM under a key derived from
``SECRET_KEY`` with HKDF): a copy of the database alone cannot make codes. Keys in
``SECRET_KEY_FALLBACKS`` still open secrets sealed before a rotation; a secret is sealed again
under the current key when it is next used."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_INFO = b"hdh-staff-totp-secret"


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_INFO).derive(secret_key.encode())


def _keys() -> list[bytes]:
    config = current_app.config
    return [_key(config["SECRET_KEY"]),
            *(_key(k) for k in config.get("SECRET_KEY_FALLBACKS") or [])]


def seal(text: str, context: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_keys()[0]).encrypt(nonce, text.encode(), context.encode())


def open_sealed(sealed: bytes, context: str) -> tuple[str, bool]:
    """(text, sealed under the current key?). Raises ValueError when no key opens it."""
    for index, key in enumerate(_keys()):
        try:
            plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], context.encode())
        except InvalidTag:
            continue
        return plain.decode(), index == 0
    raise ValueError("no configured key opens this secret")
