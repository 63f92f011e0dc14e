"""Bearer tokens of the platform's API (``flask platform token create|list|revoke``).

A token is 256 random bits shown once; only its SHA-256 is kept (a slow hash adds nothing to a
secret that cannot be guessed). Tokens are scoped to this API (``platform:v1``) and revocable;
creating and revoking them are audited, and so is every call, accepted or refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from objection.exclusions.models import PlatformToken
from staff import audit

PREFIX = "hdhp_"
SCOPE = "platform:v1"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: PlatformToken
    secret: str  #: shown once, never stored


def create(session: Session, *, name: str, by: str, now: datetime) -> Issued:
    """A new token for the platform. Flushes; the caller commits, then shows the secret."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = PlatformToken(name=name.strip()[:80] or "plateforme", token_hash=token_hash(secret),
                          scope=SCOPE, created_at=now, created_by=by)
    session.add(token)
    session.flush()
    audit.record(session, "platform.token_created", actor=by, target=f"platform:{token.id}",
                 at=now, detail={"scope": SCOPE})
    return Issued(token, secret)


def revoke(session: Session, token_id: int, *, by: str, now: datetime) -> PlatformToken | None:
    """Revoke a token at once (the next call with it gets 401). None if unknown."""
    token = session.get(PlatformToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at, token.revoked_by = now, by
        audit.record(session, "platform.token_revoked", actor=by,
                     target=f"platform:{token.id}", at=now)
    session.flush()
    return token


def listing(session: Session) -> list[PlatformToken]:
    return list(session.scalars(select(PlatformToken).order_by(PlatformToken.id)))


@dataclass(frozen=True)
class Authentication:
    """Who called: the token when it is valid; else why it was refused."""

    token: PlatformToken | None
    refusal: str = ""  # "missing", "malformed", "unknown", "revoked", "out_of_scope"

    @property
    def actor(self) -> str:
        return f"platform:{self.token.id}" if self.token else "platform:unknown"


def authenticate(session: Session, authorization: str | None) -> Authentication:
    """The token named by an ``Authorization: Bearer …`` header."""
    if not authorization:
        return Authentication(None, "missing")
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX) or len(secret) > 200:
        return Authentication(None, "malformed")
    token = session.scalar(select(PlatformToken).where(
        PlatformToken.token_hash == token_hash(secret)))
    if token is None:
        return Authentication(None, "unknown")
    if token.revoked_at is not None:
        return Authentication(token, "revoked")
    if token.scope != SCOPE:
        return Authentication(token, "out_of_scope")
    return Authentication(token)
