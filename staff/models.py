"""Tables of the staff accounts: people, their open sessions and their recovery codes.

No password, second-factor secret or session token is stored as given: passwords are Argon2id
hashes, second-factor secrets are encrypted (``staff.secrets``), session tokens and recovery
codes are SHA-256 digests (both are random, 256 and 50 bits: a slow hash adds nothing).
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.database import Base, UTCDateTime


class Role(enum.StrEnum):
    EDITOR = "editor"          #: keeps the register (projects, organisations, results)
    REVIEWER = "reviewer"      #: reviews objections (documents, identities, decisions)
    ADMIN = "admin"            #: accounts, the audit trail, keys

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self.value])


ROLE_LABELS = {
    "editor": _l("Éditeur (registre)"),
    "reviewer": _l("Instructeur (oppositions)"),
    "admin": _l("Administrateur (comptes, journal)"),
}


class StaffUser(Base):
    """A member of staff. ``roles`` is a list of ``Role`` values (one person may hold
    several). An account is never deleted (the audit trail names it): it is deactivated."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(120))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The second factor (RFC 6238): the secret, encrypted; the last time step accepted, so a
    # code is never accepted twice.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    # Lock-out: wrong passwords and codes in a row; locked until, longer each time.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id")

    def has_role(self, *roles: str) -> bool:
        """Whether the account holds any of ``roles``."""
        return any(role in (self.roles or []) for role in roles)

    @property
    def actor(self) -> str:
        """How the audit trail names this account."""
        return f"staff:{self.id}"


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; the row holds its digest, so
    ending a session (logout, logout everywhere, expiry, deactivation) ends it on the server:
    the cookie alone opens nothing."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the second factor was given (None: only the password so far).
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_why: Mapped[str] = mapped_column(String(20), default="")

    user: Mapped[StaffUser] = relationship()


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor (a lost phone)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship(back_populates="recovery_codes")
