"""Pseudonyms (keyed hashes of the NIR) and encryption of what a review needs.

* ``pseudonymise``: HMAC-SHA256 of the normalised NIR under the current key; stored with its key
  id. ``candidates`` gives the pseudonym under every configured key, so look-ups keep working
  during a key rotation (``PSEUDONYM_KEYS="new:…,old:…"``). The NIR itself is never stored.
* ``Sealer``: AES-256-GCM for names, birth date, e-mail address and supporting documents, with a
  key id in front of each ciphertext (``IDENTITY_ENCRYPTION_KEYS``, same format). In development,
  a key is derived from ``SECRET_KEY`` with HKDF; production must set its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from core.config import DEV_ONLY_MARKER


class KeyConfigError(ValueError):
    """A key setting that cannot be used."""


def parse_keys(setting: str, min_bytes: int = 32) -> list[tuple[str, bytes]]:
    """``"id:base64,id:base64"`` → [(id, key)], the first being the current key."""
    keys = []
    for item in filter(None, (part.strip() for part in (setting or "").split(","))):
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id:
            raise KeyConfigError("each key is written id:base64key")
        if DEV_ONLY_MARKER in encoded:
            key = hashlib.sha256(encoded.encode()).digest()  # development profile only
        else:
            try:
                key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            except binascii.Error as exc:
                raise KeyConfigError(f"key {key_id!r} is not base64") from exc
        if len(key) < min_bytes:
            raise KeyConfigError(f"key {key_id!r} must be at least {min_bytes} bytes")
        keys.append((key_id, key))
    if not keys:
        raise KeyConfigError("no key configured")
    return keys


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def pseudonymise(self, nir: str) -> tuple[str, str]:
        """(key id, hex digest) under the current key."""
        key_id, key = self.keys[0]
        return key_id, hmac.new(key, nir.encode(), hashlib.sha256).hexdigest()

    def candidates(self, nir: str) -> list[tuple[str, str]]:
        """The pseudonym under every configured key (for look-ups across a rotation)."""
        return [(key_id, hmac.new(key, nir.encode(), hashlib.sha256).hexdigest())
                for key_id, key in self.keys]


class Sealer:
    """AES-256-GCM with a key id prefix: ``<id>:`` + nonce (12 bytes) + ciphertext."""

    def __init__(self, keys: list[tuple[str, bytes]]):
        self.keys = {key_id: key[:32] for key_id, key in keys}
        self.current_id = keys[0][0]

    def seal(self, data: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        ciphertext = AESGCM(self.keys[self.current_id]).encrypt(nonce, data, context)
        return self.current_id.encode() + b":" + nonce + ciphertext

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        key_id, _, rest = sealed.partition(b":")
        key = self.keys.get(key_id.decode())
        if key is None:
            raise KeyConfigError("data sealed with a key that is no longer configured")
        return AESGCM(key).decrypt(rest[:12], rest[12:], context)

    def seal_text(self, text: str, context: str = "") -> bytes:
        return self.seal(text.encode(), context.encode())

    def open_text(self, sealed: bytes, context: str = "") -> str:
        return self.open(sealed, context.encode()).decode()


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Problems with the format of the objection keys, for the production start-up check
    (empty when fine). Checked at start-up so that a malformed key stops the service with a
    clear message instead of failing on the first citizen's objection. Missing and
    development-only values are the configuration's own check (``core.config``)."""
    problems = []
    for name in ("PSEUDONYM_KEYS", "IDENTITY_ENCRYPTION_KEYS"):
        setting = str(config.get(name) or "")
        if not setting or DEV_ONLY_MARKER in setting:
            continue
        try:
            keys = parse_keys(setting)
        except KeyConfigError as error:
            problems.append(f"{name}: {error}")
            continue
        ids = [key_id for key_id, _ in keys]
        if len(set(ids)) != len(ids):
            problems.append(f"{name}: each key id must appear once")
    return problems


def keyring(app: Flask | None = None) -> Keyring:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("objection_keyring")
    if cached is None:
        cached = Keyring(tuple(parse_keys(app.config["PSEUDONYM_KEYS"])))
        app.extensions["objection_keyring"] = cached
    return cached


def sealer(app: Flask | None = None) -> Sealer:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("objection_sealer")
    if cached is None:
        setting = app.config.get("IDENTITY_ENCRYPTION_KEYS", "")
        if setting:
            keys = parse_keys(setting)
        else:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                           info=b"hdh-identity-encryption").derive(app.config["SECRET_KEY"]
                                                                   .encode())
            keys = [("dev", derived)]
        cached = Sealer(keys)
        app.extensions["objection_sealer"] = cached
    return cached
