"""Builders for exclusion tests: people (valid NIRs), filings made through the service, files
written and checked, a platform token."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path

from core.clock import utcnow
from core.extensions import db
from objection import service
from objection.exclusions import delivery, exports, state, tokens, verifier
from objection.identity import key_of, parse_nir
from objection.keys import keyring
from objection.models import Filer, Objection, ObjectionStatus, Scope


def nir_of(person: int) -> str:
    """A valid NIR for person number ``person`` (a woman born in March 1985 in Paris)."""
    body = f"2850375{person // 1000 % 1000:03d}{person % 1000:03d}"
    return f"{body}{key_of(body):02d}"


def pseudonym_of(person: int, key_id: str | None = None) -> str:
    """The person's pseudonym in modhex, as the files write it (under ``key_id``, or the
    current key)."""
    keys = dict(keyring().keys)
    key = keys[key_id or keyring().current_id]
    digest = hmac.new(key, nir_of(person).encode(), hashlib.sha256).hexdigest()
    return verifier.to_modhex(digest)


def file(person: int, *, project: str | None = None, filer: Filer = Filer.SELF,
         token: str | None = None) -> Objection:
    """A filing through the service (what the form does once its checks passed), flushed."""
    data = service.FilingInput(
        filer=filer, scope=Scope.PROJECT if project else Scope.GENERAL,
        project_reference=project, nir=parse_nir(nir_of(person)), birth_name="Martin",
        first_names="Claire", birth_date=date(1985, 3, 14), sex="F",
        email=f"personne{person}@exemple.fr", representative_name=(
            "Jean Parent" if filer != Filer.SELF else ""))
    filing = service.file_objection(db.session, data,
                                    form_token=token or f"token-{person}-{project}-{filer}")
    return filing.objection


def verify(objection: Objection) -> None:
    service.change_status(db.session, objection, ObjectionStatus.VERIFIED, by="staff:1")


def export_next(directory: Path | None = None) -> delivery.Served | None:
    """Publish what changed (committed); with ``directory``, write the file there."""
    served = delivery.bring_up_to_date(db.session, state.lock(db.session), now=utcnow(),
                                       actor="system:test")
    db.session.commit()
    if served is not None and directory is not None:
        exports.write_files(db.session, served.export, directory, served.spooled)
    if served is not None:
        served.close()
    return served


def export_full(directory: Path) -> Path | None:
    served = delivery.full(db.session, now=utcnow(), actor="system:test")
    db.session.commit()
    if served is None:
        return None
    try:
        return exports.write_files(db.session, served.export, directory, served.spooled)
    finally:
        served.close()


def write(sequence: int, kind: str, directory: Path) -> Path:
    export = exports.find(db.session, sequence, kind)
    assert export is not None, (sequence, kind)
    return exports.write_files(db.session, export, directory)


def lines(path: Path) -> list[str]:
    """The body lines of a file."""
    text = path.read_text("ascii")
    return text.split("\n\n", 1)[1].splitlines()


def new_token(name: str = "test") -> str:
    issued = tokens.create(db.session, name=name, by="system:test", now=utcnow())
    db.session.commit()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
