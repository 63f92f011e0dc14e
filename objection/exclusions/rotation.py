"""Pseudonym key rotation: re-pseudonymise every filing under the new key, without the server
ever holding a NIR it can read (docs/exclusion-format.md, "Key rotation").

Each filing keeps its NIR sealed to the offline escrow key (``escrow``). A rotation run is given
the escrow's private key for its duration (``flask objection rekey --private-key-file``): it
opens each sealed NIR in memory, checks it against the stored pseudonym when the old key is
still configured, computes the pseudonym under the current key and stores it. Nothing it opens
is written or logged. When a person has a filing under each key (the old key was dropped from
``PSEUDONYM_KEYS`` too early), the older filing stays the primary one and the other is linked to
it, as filing would have done. The next export sees the new key and publishes a full export
under it (``state``: a rebase), which refuses while a filing in force is left under another key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from objection.exclusions.escrow import EscrowError, open_sealed
from objection.exclusions.models import IN_FORCE
from objection.keys import keyring
from objection.models import ACTIVE_STATUSES, ERASED, Objection
from objection.queries import primary_among
from staff import audit

BATCH = 1000
SHOWN = 20  # references named in a report, at most


@dataclass
class RekeyReport:
    rekeyed: int = 0
    last_id: int = 0
    without_escrow: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    relinked: int = 0

    def merge(self, other: RekeyReport) -> None:
        self.rekeyed += other.rekeyed
        self.last_id = other.last_id
        self.without_escrow = (self.without_escrow + other.without_escrow)[:SHOWN]
        self.unreadable = (self.unreadable + other.unreadable)[:SHOWN]
        self.relinked += other.relinked


def remaining(session: Session) -> tuple[int, int]:
    """(filings in force, all filings) not erased and not under the current key."""
    current = keyring().current_id
    base = select(func.count()).select_from(Objection).where(
        Objection.pseudonym_key_id != current, Objection.pseudonym != ERASED)
    return (int(session.scalar(base.where(Objection.status.in_(IN_FORCE))) or 0),
            int(session.scalar(base) or 0))


def _settle_primaries(session: Session, objection: Objection, pseudonym: str) -> bool:
    """Before ``objection`` takes ``pseudonym``: when another primary active filing of the same
    person and scope holds it, the younger one is linked to the older. Whether it linked."""
    if objection.linked_to_id is not None or objection.status not in ACTIVE_STATUSES:
        return False
    other = primary_among(session, {pseudonym}, objection.scope, objection.project_reference,
                          excluding={objection.id})
    if other is None:
        return False
    older, younger = (other, objection) if other.id < objection.id else (objection, other)
    session.execute(update(Objection).where(Objection.linked_to_id == younger.id)
                    .values(linked_to_id=older.id)
                    .execution_options(synchronize_session=False))
    younger.linked_to_id = older.id
    session.flush()
    return True


def rekey_batch(session: Session, private_key: X25519PrivateKey, *, by: str, now: datetime,
                after_id: int = 0, limit: int = BATCH) -> RekeyReport:
    """Re-pseudonymise up to ``limit`` filings (ids above ``after_id``) that are not under the
    current key. Filings without a sealed NIR, or whose sealed NIR does not give their stored
    pseudonym, are left as they are and named. Flushes, never commits: the command commits
    each batch."""
    ring = keyring()
    current, configured = ring.current_id, dict(ring.keys)
    report = RekeyReport(last_id=after_id)
    batch = list(session.scalars(select(Objection).where(
        Objection.id > after_id, Objection.pseudonym_key_id != current,
        Objection.pseudonym != ERASED).order_by(Objection.id).limit(limit)))
    for objection in batch:
        report.last_id = objection.id
        if objection.nir_sealed is None:
            report.without_escrow.append(objection.reference)
            continue
        try:
            nir = open_sealed(objection.nir_sealed, private_key)
        except EscrowError:
            report.unreadable.append(objection.reference)
            continue
        old_key = configured.get(objection.pseudonym_key_id)
        if old_key is not None and not hmac.compare_digest(
                hmac.new(old_key, nir.encode(), hashlib.sha256).hexdigest(),
                objection.pseudonym):
            report.unreadable.append(objection.reference)
            continue
        _key_id, pseudonym = ring.pseudonymise(nir)
        del nir
        report.relinked += _settle_primaries(session, objection, pseudonym)
        objection.pseudonym, objection.pseudonym_key_id = pseudonym, current
        session.flush()
        report.rekeyed += 1
    if batch:
        audit.record(session, "objections.rekeyed", actor=by, at=now, detail={
            "key": current, "rekeyed": report.rekeyed, "relinked": report.relinked,
            "without_escrow": len(report.without_escrow),
            "unreadable": len(report.unreadable)})
    return report
