"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), with the standard library:
HMAC-SHA1, 30-second steps, 6 digits — what every authenticator application reads from an
``otpauth://`` URI. Thirty lines are easier to review than a dependency.

A code is accepted for the current step and one step either side (clock drift), and only for a
step later than the last one accepted (``last_step``): a code seen over a shoulder or replayed
from a proxy's log is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA1


def new_secret() -> str:
    """A random secret, in base32 without padding (how applications expect it typed)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(secret: str, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: the code for ``counter`` (dynamic truncation of HMAC-SHA1)."""
    mac = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def step_at(moment: datetime) -> int:
    """The time step ``moment`` falls in (seconds since the Unix epoch, in steps of 30)."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    return hotp(secret, step_at(moment))


def matching_step(secret: str, code: str, moment: datetime, last_step: int = 0) -> int | None:
    """The step whose code is ``code`` (now, or one step either side), if it is later than
    ``last_step``; None otherwise. Compared in constant time."""
    typed = "".join(char for char in code if not char.isspace())
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    now = step_at(moment)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(secret, step), typed) and step > last_step:
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI an application reads (typed, pasted or from a QR code)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
