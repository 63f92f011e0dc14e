"""The key that signs exclusion lists (Ed25519, ``EXCLUSION_SIGNING_KEY``) and its public half.

The private key comes from the environment as the base64 of its 32-byte seed; production
refuses to start without it (``check_config``). Development derives one from a fixed,
development-only value, so ``make run`` works with nothing set and its files are signed by a
key everyone knows: never a key to trust. The public key is published as PEM at
``/api/platform/v1/signing-key`` and printed by ``flask objection signing-key``; the platform
pins it once, out of band, and checks every file against it.

A signature covers the whole file: Ed25519 over a fixed context and the file's SHA-256
(``verifier.signed_message``), so signing and checking stream the file whatever its size.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask, current_app

from core.config import DEV_ONLY_MARKER
from objection.exclusions.verifier import fingerprint, signed_message, to_modhex

DEVELOPMENT_KEY = f"{DEV_ONLY_MARKER}-exclusion-signing-key"


class SigningKeyError(ValueError):
    """An ``EXCLUSION_SIGNING_KEY`` that cannot be used."""


def parse_private_key(setting: str) -> Ed25519PrivateKey:
    """The key from its setting: base64 of the 32-byte seed (a development-only value derives
    one)."""
    setting = (setting or "").strip()
    if not setting:
        raise SigningKeyError("no key configured")
    if DEV_ONLY_MARKER in setting:
        return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(setting.encode()).digest())
    try:
        seed = base64.b64decode(setting + "=" * (-len(setting) % 4), validate=True)
    except binascii.Error as error:
        raise SigningKeyError("it is not base64") from error
    if len(seed) != 32:
        raise SigningKeyError("it must be the base64 of 32 bytes (an Ed25519 seed)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Production needs its own signing key, well formed."""
    setting = str(config.get("EXCLUSION_SIGNING_KEY") or "")
    if not setting:
        return ["missing: EXCLUSION_SIGNING_KEY"]
    if DEV_ONLY_MARKER in setting:
        return ["development-only values: EXCLUSION_SIGNING_KEY"]
    try:
        parse_private_key(setting)
    except SigningKeyError as error:
        return [f"EXCLUSION_SIGNING_KEY: {error}"]
    return []


def new_key_setting() -> str:
    """A fresh private key, as the setting's value (for ``flask objection signing-key
    --new``)."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def private_key(app: Flask | None = None) -> Ed25519PrivateKey:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("exclusion_signing_key")
    if cached is None:
        setting = app.config.get("EXCLUSION_SIGNING_KEY") or ""
        if not setting and app.config.get("APP_ENV") != "production":
            setting = DEVELOPMENT_KEY  # production refuses to start without one
        cached = parse_private_key(setting)
        app.extensions["exclusion_signing_key"] = cached
    return cached


def public_key(app: Flask | None = None) -> Ed25519PublicKey:
    return private_key(app).public_key()


def public_key_pem(app: Flask | None = None) -> str:
    return public_key(app).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
                                        ).decode("ascii")


def key_fingerprint(app: Flask | None = None) -> str:
    return fingerprint(public_key(app))


def sign(file_digest: bytes, app: Flask | None = None) -> str:
    """The signature (modhex) of a file whose SHA-256 is ``file_digest``."""
    return to_modhex(private_key(app).sign(signed_message(file_digest)).hex())


def signature_line(signature: str, app: Flask | None = None) -> str:
    """The content of ``FILE.sig``."""
    return f"ed25519 {key_fingerprint(app)} {signature}\n"
