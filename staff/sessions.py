"""Staff sessions kept on the server: the cookie holds a random token, the table its digest
and when the session started, was last used, got its second factor and ended. A session ends
after 30 minutes without a request, 12 hours after it started, at logout, and for every
browser of an account at "logout everywhere", a password change, a second-factor reset or a
deactivation: the cookie then opens nothing, whatever the browser kept."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from staff.models import StaffSession, StaffUser

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
SECOND_FACTOR_TIMEOUT = timedelta(minutes=10)  # between the password and the code
TOUCH_EVERY = timedelta(minutes=1)  # last use written at most once a minute


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: StaffUser, *, now: datetime | None = None
                 ) -> tuple[StaffSession, str]:
    """A new session for ``user`` (after the password); returns it and the cookie's token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(token_hash=token_digest(token), user=user, created_at=now,
                       last_seen_at=now)
    session.add(row)
    session.flush()
    return row, token


def expiry_reason(row: StaffSession, now: datetime) -> str | None:
    """Why the session can no longer be used ("idle", "absolute", "second_factor"), or None."""
    if row.second_factor_at is None and now - row.created_at > SECOND_FACTOR_TIMEOUT:
        return "second_factor"
    if now - row.last_seen_at > IDLE_TIMEOUT:
        return "idle"
    if now - row.created_at > ABSOLUTE_TIMEOUT:
        return "absolute"
    return None


def find(session: Session, token: str) -> StaffSession | None:
    """The open session whose cookie carries ``token`` (expiry is the caller's check)."""
    if not token or len(token) > 100:
        return None
    return session.scalar(select(StaffSession).where(
        StaffSession.token_hash == token_digest(token), StaffSession.ended_at.is_(None)))


def end(session: Session, row: StaffSession, why: str, *, now: datetime | None = None) -> None:
    row.ended_at = now or utcnow()
    row.ended_why = why
    session.flush()


def end_all(session: Session, user: StaffUser, why: str, *, now: datetime | None = None,
            keep: StaffSession | None = None) -> int:
    """End every open session of ``user`` (but ``keep``); returns how many."""
    statement = (update(StaffSession)
                 .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
                 .values(ended_at=now or utcnow(), ended_why=why))
    if keep is not None:
        statement = statement.where(StaffSession.id != keep.id)
    count = session.execute(statement, execution_options={"synchronize_session": False}
                            ).rowcount
    session.flush()
    return int(count or 0)


def needs_touch(row: StaffSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY
