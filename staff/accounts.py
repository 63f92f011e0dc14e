"""Staff accounts: creating and changing them, signing in (password, then second factor),
lock-out, enrolment of the second factor and recovery codes. The only code that writes
``staff_users`` and ``staff_recovery_codes``; every change is an audit event in the same
transaction (``staff.audit``), naming accounts by id (``staff:<id>``), never by address.

Functions take the session first, flush and never commit (the view or command commits).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from staff import audit, passwords, sessions, totp
from staff.models import RecoveryCode, Role, StaffSession, StaffUser
from staff.secrets import open_sealed, seal

MAX_FAILURES = 5  # wrong passwords or codes in a row before the first lock
FIRST_LOCK = timedelta(minutes=1)  # then doubled at each further failure…
LONGEST_LOCK = timedelta(hours=1)  # …up to an hour
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
ISSUER = "Transparence données de santé"


class AccountError(ValueError):
    """A change that cannot be made: ``field`` → French message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def count_admins(session: Session) -> int:
    return sum(1 for user in session.scalars(select(StaffUser).where(StaffUser.active))
               if user.has_role(Role.ADMIN))


# --------------------------------------------------------------------------- accounts

def _check_roles(roles: list[str]) -> list[str]:
    valid = sorted({str(Role(role)) for role in roles if role in {r.value for r in Role}})
    if not valid:
        raise AccountError({"roles": _("Choisissez au moins un rôle.")})
    return valid


def create_account(session: Session, *, email: str, name: str, roles: list[str],
                   password: str, by: str, now: datetime | None = None) -> StaffUser:
    """A new account, which must change its password and enrol a second factor at its first
    sign-in. Raises AccountError (by field) when something is wrong; nothing is written."""
    now = now or utcnow()
    email, name = normalise_email(email), " ".join(name.split())
    errors: dict[str, str] = {}
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        errors["email"] = _("Saisissez une adresse électronique valide.")
    elif find_by_email(session, email) is not None:
        errors["email"] = _("Un compte existe déjà avec cette adresse.")
    if not name or len(name) > 120:
        errors["name"] = _("Saisissez le nom et le prénom (120 caractères au plus).")
    try:
        valid_roles = _check_roles(roles)
    except AccountError as error:
        errors.update(error.errors)
        valid_roles = []
    weak = passwords.problem(password, email=email, name=name)
    if weak:
        errors["password"] = weak
    if errors:
        raise AccountError(errors)
    user = StaffUser(email=email, name=name, roles=valid_roles, active=True,
                     password_hash=passwords.hash_password(password),
                     must_change_password=True, password_changed_at=now, created_at=now,
                     totp_enabled=False, totp_last_step=0, failed_logins=0)
    session.add(user)
    session.flush()
    audit.record(session, "staff.account_created", actor=by, target=user.actor,
                 detail={"roles": valid_roles}, at=now)
    return user


def update_account(session: Session, user: StaffUser, *, roles: list[str], active: bool,
                   by: str, now: datetime | None = None) -> bool:
    """Change an account's roles or deactivate it (its sessions end). The last active
    administrator cannot be removed. Returns whether anything changed."""
    now = now or utcnow()
    new_roles = _check_roles(roles)
    losing_admin = user.has_role(Role.ADMIN) and user.active and (
        not active or Role.ADMIN not in new_roles)
    if losing_admin and count_admins(session) <= 1:
        raise AccountError({"roles": _("C'est le dernier compte administrateur actif : "
                                       "créez-en un autre avant de retirer ce rôle.")})
    changes: dict[str, object] = {}
    if sorted(user.roles or []) != new_roles:
        changes["roles"] = new_roles
        user.roles = new_roles
    if user.active != active:
        changes["active"] = active
        user.active = active
    if not changes:
        return False
    if not active:
        sessions.end_all(session, user, "deactivated", now=now)
    audit.record(session, "staff.account_updated", actor=by, target=user.actor,
                 detail=changes, at=now)
    return True


def change_password(session: Session, user: StaffUser, *, new_password: str, by: str,
                    current_password: str | None = None, keep: StaffSession | None = None,
                    now: datetime | None = None) -> None:
    """Set a new password (checked against the rules; the current one when a person changes
    their own). Every other session of the account ends."""
    now = now or utcnow()
    if current_password is not None and not passwords.verify(user.password_hash,
                                                              current_password):
        raise AccountError({"current_password": _("Le mot de passe actuel est incorrect.")})
    weak = passwords.problem(new_password, email=user.email, name=user.name)
    if weak:
        raise AccountError({"new_password": weak})
    if passwords.verify(user.password_hash, new_password):
        raise AccountError({"new_password": _("Choisissez un mot de passe différent "
                                              "de l'actuel.")})
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = current_password is None  # set by someone else: change it
    sessions.end_all(session, user, "password", now=now, keep=keep)
    audit.record(session, "staff.password_changed", actor=by, target=user.actor, at=now,
                 detail={"by_self": by == user.actor})


def unlock(session: Session, user: StaffUser, *, by: str, now: datetime | None = None) -> None:
    user.failed_logins, user.locked_until = 0, None
    audit.record(session, "staff.unlocked", actor=by, target=user.actor, at=now)


def reset_second_factor(session: Session, user: StaffUser, *, by: str,
                        now: datetime | None = None) -> None:
    """Forget the second factor and the recovery codes (a lost phone): the person enrols
    again at their next sign-in; their sessions end."""
    user.totp_secret_sealed, user.totp_enabled, user.totp_last_step = None, False, 0
    user.recovery_codes.clear()
    sessions.end_all(session, user, "second_factor_reset", now=now)
    audit.record(session, "staff.second_factor_reset", actor=by, target=user.actor, at=now)


# --------------------------------------------------------------------------- signing in

@dataclass(frozen=True)
class Attempt:
    """What a sign-in step found: ``ok``, or why not (``invalid``, ``locked`` until when)."""

    ok: bool
    user: StaffUser | None = None
    locked_until: datetime | None = None


def _lock_delay(failures: int) -> timedelta:
    return min(FIRST_LOCK * 2 ** max(failures - MAX_FAILURES, 0), LONGEST_LOCK)


def is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _count_failure(session: Session, user: StaffUser, stage: str, now: datetime) -> Attempt:
    """Count a wrong password or code in the database itself (simultaneous guesses all
    count); from the fifth in a row, lock the account, twice as long each time."""
    failures = session.execute(
        update(StaffUser).where(StaffUser.id == user.id)
        .values(failed_logins=StaffUser.failed_logins + 1).returning(StaffUser.failed_logins),
        execution_options={"synchronize_session": False}).scalar_one()
    audit.record(session, "staff.login_failed", actor="anonymous", target=user.actor, at=now,
                 detail={"stage": stage, "failures": int(failures)})
    locked_until = None
    if failures >= MAX_FAILURES:
        locked_until = now + _lock_delay(failures)
        session.execute(update(StaffUser).where(StaffUser.id == user.id)
                        .values(locked_until=locked_until),
                        execution_options={"synchronize_session": False})
        audit.record(session, "staff.locked", actor="system", target=user.actor, at=now,
                     detail={"minutes": int(_lock_delay(failures).total_seconds() // 60)})
    session.refresh(user)
    return Attempt(False, user, locked_until)


def check_password(session: Session, email: str, password: str, *,
                   now: datetime | None = None) -> Attempt:
    """The first step of signing in. An unknown or deactivated account and a wrong password
    get the same answer and cost the same (one Argon2 verification)."""
    now = now or utcnow()
    user = find_by_email(session, email)
    if user is not None and user.active and is_locked(user, now):
        return Attempt(False, user, user.locked_until)
    if not passwords.verify(user.password_hash if user is not None else None, password) \
            or user is None or not user.active:
        if user is None or not user.active:
            audit.record(session, "staff.login_failed", actor="anonymous", at=now,
                         detail={"stage": "password", "account": "unknown"})
            return Attempt(False)
        return _count_failure(session, user, "password", now)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return Attempt(True, user)


def _totp_secret(user: StaffUser) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    secret, current = open_sealed(user.totp_secret_sealed, f"totp:{user.id}")
    if not current:  # sealed under a key in SECRET_KEY_FALLBACKS: seal it again
        user.totp_secret_sealed = seal(secret, f"totp:{user.id}")
    return secret


def _take_step(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    """Accept a code once: the step moves in one conditional UPDATE, so the same code sent
    twice (a replay, two tabs) is accepted by one request only."""
    secret = _totp_secret(user)
    step = totp.matching_step(secret, code, now, user.totp_last_step) if secret else None
    if step is None:
        return False
    taken = session.execute(
        update(StaffUser).where(StaffUser.id == user.id, StaffUser.totp_last_step < step)
        .values(totp_last_step=step), execution_options={"synchronize_session": False}
    ).rowcount
    session.refresh(user)
    return bool(taken)


def _recovery_digest(user: StaffUser, code: str) -> str:
    typed = "".join(char for char in code.lower() if char.isalnum())
    return hashlib.sha256(f"{user.id}:{typed}".encode()).hexdigest()


def _use_recovery_code(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    digest = _recovery_digest(user, code)
    for stored in user.recovery_codes:
        if stored.used_at is None and hmac.compare_digest(stored.code_hash, digest):
            used = session.execute(
                update(RecoveryCode).where(RecoveryCode.id == stored.id,
                                           RecoveryCode.used_at.is_(None))
                .values(used_at=now), execution_options={"synchronize_session": False}
            ).rowcount
            session.refresh(stored)
            if used:
                audit.record(session, "staff.recovery_code_used", actor=user.actor,
                             target=user.actor, at=now,
                             detail={"left": remaining_recovery_codes(session, user)})
            return bool(used)
    return False


def check_second_factor(session: Session, staff_session: StaffSession, code: str, *,
                        now: datetime | None = None) -> Attempt:
    """The second step: a code from the application (never the same one twice) or an unused
    recovery code. Success completes the session and resets the failure count; a wrong code
    counts towards the lock-out like a wrong password."""
    now = now or utcnow()
    user = staff_session.user
    if is_locked(user, now):
        return Attempt(False, user, user.locked_until)
    if not (_take_step(session, user, code, now) or _use_recovery_code(session, user, code,
                                                                        now)):
        return _count_failure(session, user, "second_factor", now)
    complete_sign_in(session, staff_session, now=now)
    return Attempt(True, user)


def complete_sign_in(session: Session, staff_session: StaffSession, *,
                     now: datetime | None = None) -> None:
    now = now or utcnow()
    user = staff_session.user
    staff_session.second_factor_at = now
    staff_session.last_seen_at = now
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    audit.record(session, "staff.login", actor=user.actor, target=user.actor, at=now,
                 detail={"session": staff_session.id})


# --------------------------------------------------------------------------- enrolment

def start_enrolment(session: Session, user: StaffUser) -> str:
    """A new secret for an account that has no second factor yet (kept encrypted until the
    first code confirms it); the same one while enrolment is under way."""
    if user.totp_enabled:
        raise AccountError({"code": _("La double authentification est déjà activée.")})
    secret = _totp_secret(user)
    if secret is None:
        secret = totp.new_secret()
        user.totp_secret_sealed = seal(secret, f"totp:{user.id}")
        session.flush()
    return secret


def enrolment_uri(user: StaffUser, secret: str) -> str:
    return totp.provisioning_uri(secret, user.email, ISSUER)


def confirm_enrolment(session: Session, staff_session: StaffSession, code: str, *,
                      now: datetime | None = None) -> list[str] | None:
    """Turn the second factor on once a first code proves the application has the secret;
    returns the recovery codes to show once (None: wrong code, counted as a failure)."""
    now = now or utcnow()
    user = staff_session.user
    if user.totp_enabled or not _take_step(session, user, code, now):
        _count_failure(session, user, "enrolment", now)
        return None
    user.totp_enabled = True
    audit.record(session, "staff.second_factor_enrolled", actor=user.actor, target=user.actor,
                 at=now)
    codes = new_recovery_codes(session, user, now=now)
    complete_sign_in(session, staff_session, now=now)
    return codes


def new_recovery_codes(session: Session, user: StaffUser, *,
                       now: datetime | None = None) -> list[str]:
    """Ten new one-time codes (the previous ones stop working); shown once, kept hashed."""
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
             for _ in range(RECOVERY_CODES)]
    user.recovery_codes.clear()
    session.flush()
    user.recovery_codes.extend(RecoveryCode(code_hash=_recovery_digest(user, code))
                               for code in codes)
    audit.record(session, "staff.recovery_codes_generated", actor=user.actor,
                 target=user.actor, at=now, detail={"count": len(codes)})
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def remaining_recovery_codes(session: Session, user: StaffUser) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def verify_code_for(session: Session, user: StaffUser, code: str, *,
                    now: datetime | None = None) -> bool:
    """A fresh application code from a signed-in person (to regenerate recovery codes)."""
    return _take_step(session, user, code, now or utcnow())


def temporary_password(*, email: str = "", name: str = "") -> str:
    """A password drawn by the server (about 100 bits), for an administrator to hand over;
    the person must change it at their next sign-in. A draw the rules would refuse (one
    holding the person's name, say) is drawn again rather than failing."""
    while True:
        drawn = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        if passwords.problem(drawn, email=email, name=name) is None:
            return drawn
