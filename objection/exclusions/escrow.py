"""The NIR sealed to an offline key, so a pseudonym key rotation can re-pseudonymise every
filing while the server never holds a NIR it can read.

At filing, the normalised NIR is sealed to ``NIR_ESCROW_PUBLIC_KEY`` (X25519): an ephemeral key
pair, ECDH with the escrow key, HKDF-SHA256, AES-256-GCM. The server keeps only the public key
and cannot open what it sealed. The private key stays offline (a safe, a smart card); a
rotation run (``flask objection rekey --private-key-file``) brings it for the time of the run,
opens each sealed NIR in memory and computes its pseudonym under the new key
(``objection.exclusions.rotation``). Development derives a key pair from a fixed,
development-only value, so the procedure can be tried (and tested) without a real key.

Sealed form: ``b"X1"`` + recipient fingerprint (8 bytes) + ephemeral public key (32) + nonce
(12) + ciphertext and tag.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from flask import Flask, current_app

from core.config import DEV_ONLY_MARKER

VERSION = b"X1"
INFO = b"hdh-nir-escrow-v1"
DEVELOPMENT_SEED = f"{DEV_ONLY_MARKER}-nir-escrow-key"


class EscrowError(ValueError):
    """A key or a sealed value that cannot be used."""


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_id(raw_public: bytes) -> bytes:
    return hashlib.sha256(raw_public).digest()[:8]


def development_private_key() -> X25519PrivateKey:
    """The development key pair's private half (never a secret: anyone can derive it)."""
    return X25519PrivateKey.from_private_bytes(hashlib.sha256(DEVELOPMENT_SEED.encode())
                                               .digest())


def _decode(value: str, what: str) -> bytes:
    value = value.strip()
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except binascii.Error as error:
        raise EscrowError(f"{what} is not base64") from error
    if len(raw) != 32:
        raise EscrowError(f"{what} must be the base64 of 32 bytes (an X25519 key)")
    return raw


def parse_public_key(setting: str) -> X25519PublicKey:
    """The configured key; empty or development-only: the development key (production refuses
    to start with either, ``check_config``)."""
    if not setting or DEV_ONLY_MARKER in setting:
        return development_private_key().public_key()
    return X25519PublicKey.from_public_bytes(_decode(setting, "NIR_ESCROW_PUBLIC_KEY"))


def parse_private_key(text: str) -> X25519PrivateKey:
    """The private key as ``new_key_pair`` wrote it (base64 of its 32 bytes)."""
    return X25519PrivateKey.from_private_bytes(_decode(text, "the private key"))


def new_key_pair() -> tuple[str, str]:
    """(private, public), each the base64 of 32 bytes: the private one goes offline, the public
    one into ``NIR_ESCROW_PUBLIC_KEY``."""
    key = X25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return (base64.b64encode(private).decode(),
            base64.b64encode(_raw_public(key.public_key())).decode())


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Production needs the real escrow public key, well formed."""
    setting = str(config.get("NIR_ESCROW_PUBLIC_KEY") or "")
    if not setting:
        return ["missing: NIR_ESCROW_PUBLIC_KEY"]
    if DEV_ONLY_MARKER in setting:
        return ["development-only values: NIR_ESCROW_PUBLIC_KEY"]
    try:
        parse_public_key(setting)
    except EscrowError as error:
        return [str(error)]
    return []


def _aes_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=INFO).derive(shared)


def seal_to(recipient: X25519PublicKey, nir: str) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw_public(ephemeral.public_key())
    recipient_raw = _raw_public(recipient)
    key = _aes_key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, nir.encode("ascii"), VERSION)
    return VERSION + _key_id(recipient_raw) + ephemeral_raw + nonce + ciphertext


def open_sealed(sealed: bytes, private: X25519PrivateKey) -> str:
    """The NIR in ``sealed``; EscrowError when it was sealed to another key or altered."""
    recipient_raw = _raw_public(private.public_key())
    if sealed[:2] != VERSION or len(sealed) < 2 + 8 + 32 + 12 + 16:
        raise EscrowError("not a sealed NIR")
    if sealed[2:10] != _key_id(recipient_raw):
        raise EscrowError("sealed to another escrow key")
    ephemeral_raw, nonce, ciphertext = sealed[10:42], sealed[42:54], sealed[54:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    try:
        plain = AESGCM(_aes_key(shared, ephemeral_raw, recipient_raw)).decrypt(
            nonce, ciphertext, VERSION)
    except Exception as error:  # InvalidTag: altered, or not ours
        raise EscrowError("the sealed NIR cannot be opened (altered?)") from error
    return plain.decode("ascii")


def public_key(app: Flask | None = None) -> X25519PublicKey:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("nir_escrow_key")
    if cached is None:
        cached = parse_public_key(str(app.config.get("NIR_ESCROW_PUBLIC_KEY") or ""))
        app.extensions["nir_escrow_key"] = cached
    return cached


def key_fingerprint(app: Flask | None = None) -> str:
    """The escrow key's id, as written in front of each sealed NIR (hex): which private key a
    rotation run needs."""
    return _key_id(_raw_public(public_key(app))).hex()


def seal(nir: str) -> bytes:
    """The normalised NIR sealed to the configured escrow key (the server cannot open it)."""
    return seal_to(public_key(), nir)
