"""Supporting documents (proof that a filer may act for someone), encrypted on disk under
``INSTANCE_DIR/uploads``: kept between the form and the review step while the form is filled
in (``pending``), then with the filing until its review is done."""

from __future__ import annotations

import os
import time
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from flask import current_app

from objection import document_checks
from objection.keys import KeyConfigError, sealer

# Documents waiting between the form and its review step: at most one per browser session
# (its newest form), kept at most an hour, and never more than PENDING_CAP_BYTES on disk in all
# (the oldest go first): form posts with a mistake cannot fill the disk.
PENDING_LIFETIME = timedelta(hours=1)
PENDING_CAP_BYTES = 256 * 1024 * 1024


def _instance_file(*parts: str) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]).joinpath(*parts)


def write_private_file(path: Path, content: bytes) -> None:
    """Write a file only the service account can read (the content is encrypted anyway)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def store(content: bytes, submission_hash: str) -> str:
    """Keep a filing's document; returns its file name. Named after the submission, so that a
    filing retried after a lost race writes the same file instead of leaving an orphan."""
    name = f"{submission_hash}.bin"
    write_private_file(_instance_file("uploads", name), sealer().seal(content, b"document"))
    return name


def read(name: str) -> bytes | None:
    """A filing's document, decrypted (None when missing or no longer readable)."""
    path = _instance_file("uploads", name)
    if not path.exists():
        return None
    try:
        return sealer().open(path.read_bytes(), b"document")
    except (KeyConfigError, InvalidTag):
        return None


def checked_type(content: bytes) -> str | None:
    """The document's type if its parser accepts it (``document_checks``)."""
    return document_checks.kind_or_none(content)


def delete(name: str) -> None:
    """Delete a filing's document (once its review is done, or when the filing is erased)."""
    _instance_file("uploads", name).unlink(missing_ok=True)


def pending_document_path(form_token: str) -> Path:
    """Where a document waits, encrypted, between the form and the review step."""
    safe = "".join(c for c in form_token if c.isalnum())[:64]
    return _instance_file("uploads", "pending", f"{safe}.bin")


def _pending_name_path(form_token: str) -> Path:
    """Where the waiting document's file name is kept (encrypted too: a name such as
    ``livret-famille-dupont.pdf`` says who it is about)."""
    path = pending_document_path(form_token)
    return path.with_name(path.stem + ".name.bin")


def keep_pending_document(form_token: str, content: bytes, filename: str = "",
                          others: list[str] | None = None) -> None:
    """Keep a document that passed its checks until the form is sent (or abandoned), with its
    file name, which the review page shows. ``others``: the browser's other form tokens, whose
    documents go (one waiting document per browser); then the folder is kept under its cap."""
    for token in others or []:
        if token != form_token:
            forget_pending_document(token)
    _sweep_pending(len(content))
    write_private_file(pending_document_path(form_token),
                       sealer().seal(content, b"pending-document"))
    write_private_file(_pending_name_path(form_token),
                       sealer().seal(filename.encode(), b"pending-document-name"))


def pending_document(form_token: str) -> bytes | None:
    """The document kept for this form, if any (None if its key is no longer configured:
    the form then asks for the file again)."""
    path = pending_document_path(form_token)
    if not path.exists():
        return None
    try:
        return sealer().open(path.read_bytes(), b"pending-document")
    except (KeyConfigError, InvalidTag):
        return None


def pending_document_name(form_token: str) -> str:
    """The file name of the document kept for this form ("" if none, or unreadable)."""
    path = _pending_name_path(form_token)
    if not path.exists() or not pending_document_path(form_token).exists():
        return ""
    try:
        return sealer().open(path.read_bytes(), b"pending-document-name").decode()
    except (KeyConfigError, InvalidTag, UnicodeDecodeError):
        return ""


def display_name(filename: str) -> str:
    """A file name as the browser sent it, fit to show: its last part only (some browsers send
    the whole path), without characters that are invisible or reorder text (a right-to-left
    override can make ``fdp.exe`` look like ``exe.pdf``), at most 80 characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name
                   if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    return name.strip()[:80]


def forget_pending_document(form_token: str) -> None:
    pending_document_path(form_token).unlink(missing_ok=True)
    _pending_name_path(form_token).unlink(missing_ok=True)


def _sweep_pending(incoming: int) -> None:
    """Delete waiting documents older than ``PENDING_LIFETIME``, then the oldest until the
    folder, with ``incoming`` bytes more, fits under ``PENDING_CAP_BYTES``."""
    folder = _instance_file("uploads", "pending")
    if not folder.is_dir():
        return
    files = []
    for path in folder.glob("*.bin"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if stat.st_mtime < time.time() - PENDING_LIFETIME.total_seconds():
            path.unlink(missing_ok=True)
        else:
            files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files) + incoming
    for _, size, path in sorted(files, key=lambda item: item[0]):
        if total <= PENDING_CAP_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= size


def delete_orphans(kept: set[str], now: datetime, max_age: timedelta) -> int:
    """Delete documents older than ``max_age`` that no filing holds: forms never sent, and
    filings that never committed (a crash, a full disk), with the names kept beside waiting
    documents. ``kept``: the names filings hold. Returns how many documents were deleted."""
    deleted = 0
    oldest = (now - max_age).timestamp()
    for folder, names in ((_instance_file("uploads", "pending"), set()),
                          (_instance_file("uploads"), kept)):
        if not folder.is_dir():
            continue
        for path in folder.glob("*.bin"):
            if path.name not in names and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
                if not path.name.endswith(".name.bin"):  # a document's name is not one
                    deleted += 1
    return deleted
