"""What goes into the lists: filings in force once each, reviews and withdrawals in the next
delta, sequence numbers without gap or double even under concurrent exports (SQLite and
PostgreSQL), the command, freshness, retention and key rotation."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.config import BaseConfig
from core.extensions import db
from objection import retention, service
from objection.exclusions import delivery, escrow, exports, rotation, signing, state
from objection.exclusions import retention as exclusion_retention
from objection.exclusions.models import ExclusionExport, ExclusionQueueItem
from objection.exclusions.verifier import check_chain
from objection.models import Filer, Objection, ObjectionStatus
from tests.conftest import _empty_tables, make_test_app
from tests.objection.exclusions.factories import (
    export_full,
    export_next,
    file,
    lines,
    nir_of,
    pseudonym_of,
    verify,
)


def _people(path: Path) -> list[tuple[str, str, str]]:
    return [tuple(line.split(";")[:3]) for line in lines(path)]


def test_a_person_is_one_line_per_scope_whatever_their_filings(app, tmp_path):
    with app.app_context():
        first = file(1)
        file(1, token="again")  # a second filing for the same person: linked to the first
        file(1, project="HDH-2024-0001")
        db.session.commit()
        export_next(tmp_path)
        full = tmp_path / exports.file_name(1, "full")
        assert _people(full) == [("+", pseudonym_of(1), "ALL"),
                                 ("+", pseudonym_of(1), "HDH-2024-0001")]
        # The first filing withdrawn: the linked one takes over, the line stays.
        service.withdraw(db.session, first, by="citizen:web")
        db.session.commit()
        assert export_next(tmp_path) is None
        assert db.session.scalar(select(func.count()).select_from(ExclusionQueueItem)) == 0


def test_a_filing_for_someone_else_enters_once_verified_and_leaves_when_withdrawn(app,
                                                                                   tmp_path):
    with app.app_context():
        proxy = file(2, filer=Filer.CHILD)
        file(3)
        db.session.commit()
        export_next(tmp_path)
        assert [p for _, p, _ in _people(tmp_path / exports.file_name(1, "full"))] == [
            pseudonym_of(3)]
        assert proxy.exclusion_sequence is None  # to_review: not in force yet
        verify(proxy)
        db.session.commit()
        export_next(tmp_path)
        delta = tmp_path / exports.file_name(2, "delta")
        assert _people(delta) == [("+", pseudonym_of(2), "ALL")]
        db.session.refresh(proxy)
        assert proxy.exclusion_sequence == 2
        service.withdraw(db.session, proxy, by="citizen:web")
        db.session.commit()
        export_next(tmp_path)
        assert _people(tmp_path / exports.file_name(3, "delta")) == [
            ("-", pseudonym_of(2), "ALL")]


def test_a_filing_and_its_withdrawal_between_two_exports_publish_nothing(app, tmp_path):
    with app.app_context():
        file(1)
        db.session.commit()
        export_next(tmp_path)
        second = file(2)
        db.session.commit()
        service.withdraw(db.session, second, by="citizen:web")
        db.session.commit()
        assert export_next(tmp_path) is None
        assert db.session.scalar(select(func.max(ExclusionExport.sequence))) == 1


def test_the_erasure_a_year_after_a_withdrawal_changes_no_list(app, tmp_path, clock):
    clock.on(datetime(2026, 1, 5, tzinfo=UTC).date())
    with app.app_context():
        kept, gone = file(1), file(2)
        db.session.commit()
        export_next(tmp_path)
        service.withdraw(db.session, gone, by="citizen:web")
        db.session.commit()
        export_next(tmp_path)
        clock.on(datetime(2027, 2, 1, tzinfo=UTC).date())
        erased, _held = retention.erase_withdrawn(db.session)
        db.session.commit()
        assert erased == 1
        assert export_next(tmp_path) is None
        full = export_full(tmp_path)
        assert [p for _, p, _ in _people(full)] == [pseudonym_of(1)]
        assert kept.status == ObjectionStatus.RECEIVED
        # The withdrawn pseudonym is forgotten 90 days after the delta that removed it.
        assert exclusion_retention.compact(db.session, now=datetime(2027, 2, 1,
                                                                    tzinfo=UTC)) == 1
        db.session.commit()
        with pytest.raises(exports.ExportGone):
            delivery.next_after(db.session, 1, now=datetime(2027, 2, 1, tzinfo=UTC),
                                actor="system:test")


def _race(app, people: range) -> list[int]:
    """After a first export, each thread files one person, then exports; all start
    together."""
    with app.app_context():
        file(0)
        db.session.commit()
        export_next()
    start = threading.Barrier(len(people), timeout=30)
    sequences: list[int] = []
    failures: list[BaseException] = []

    def one(person: int) -> None:
        try:
            with app.app_context():
                file(person)
                db.session.commit()
                start.wait()
                served = export_next()
                if served is not None:
                    sequences.append(served.export.sequence)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=one, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return sequences


def _check_race(app, tmp_path) -> None:
    sequences = _race(app, range(10, 16))
    assert len(sequences) == len(set(sequences))  # never the same number twice
    with app.app_context():
        while export_next() is not None:  # what the last export of the race did not see
            pass
        numbers = sorted(db.session.scalars(select(ExclusionExport.sequence)))
        assert numbers == list(range(1, len(numbers) + 1))  # and no gap
        for sequence in numbers:
            exports.write_files(db.session, exports.chain_export(db.session, sequence),
                                tmp_path)
        chain = [tmp_path / exports.file_name(n, exports.chain_export(db.session, n).kind)
                 for n in numbers]
        full = export_full(tmp_path)
        check_chain([*chain, full], signing.public_key())
        written = [p for _, p, _ in _people(full)]
        assert sorted(written) == sorted(pseudonym_of(person) for person in (0, *range(10, 16)))


def test_concurrent_exports_never_share_a_sequence_number(app, tmp_path):
    _check_race(app, tmp_path)


@pytest.mark.postgres
def test_concurrent_exports_never_share_a_sequence_number_on_postgresql(postgres_url,
                                                                         tmp_path):
    app = make_test_app(postgres_url, tmp_path / "instance")
    try:
        _check_race(app, tmp_path)
    finally:
        app.extensions["database"]["engine"].dispose()
        _empty_tables(postgres_url)


def test_the_export_command_writes_the_file_and_its_signature(app, runner, tmp_path):
    with app.app_context():
        file(1)
        db.session.commit()
    out = tmp_path / "lists"
    result = runner.invoke(args=["objection", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 ligne(s)" in result.output
    assert (out / "exclusions-00000001-full.txt.sig").read_text().startswith("ed25519 ")
    result = runner.invoke(args=["objection", "export", "--out", str(out)])
    assert "Rien de nouveau" in result.output
    result = runner.invoke(args=["objection", "export", "--full", "--out", str(out)])
    assert result.exit_code == 0
    result = runner.invoke(args=["objection", "verify", str(out / "exclusions-00000001-full.txt")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["objection", "signing-key"])
    with app.app_context():
        assert signing.public_key_pem() in result.output


def test_freshness_warns_past_24_hours(app, client, runner, clock):
    clock.at(datetime(2026, 3, 2, 9, tzinfo=UTC))
    with app.app_context():
        file(1)
        db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["exclusions"]["status"] == "ok"
    clock.at(datetime(2026, 3, 3, 9, 30, tzinfo=UTC))
    health = client.get("/healthz").get_json()
    assert health["exclusions"]["status"] == "late"
    assert health["exclusions"]["oldest_unexported_age_seconds"] == 24 * 3600 + 1800
    result = runner.invoke(args=["objection", "export-status"])
    assert result.exit_code == 1 and "EN RETARD" in result.output
    runner.invoke(args=["objection", "export", "--out", str(app.instance_path)])
    assert client.get("/healthz").get_json()["exclusions"]["status"] == "ok"
    assert runner.invoke(args=["objection", "export-status"]).exit_code == 0


NEW_KEY = base64.b64encode(b"k" * 32).decode()


def test_a_key_rotation_rekeys_every_filing_without_a_nir_in_clear(app, tmp_path,
                                                                    database_url):
    with app.app_context():
        kept, proxy, withdrawn = file(1), file(2, filer=Filer.CHILD), file(3)
        file(4, project="HDH-2024-0001")
        verify(proxy)
        db.session.commit()
        service.withdraw(db.session, withdrawn, by="citizen:web")
        db.session.commit()
        export_next(tmp_path)
        assert b"2850375" not in b"".join(
            o.nir_sealed for o in db.session.scalars(select(Objection)))
    rotated = make_test_app(database_url, tmp_path / "rotated",
                            PSEUDONYM_KEYS=f"k2:{NEW_KEY},{BaseConfig.PSEUDONYM_KEYS}")
    try:
        with rotated.app_context():
            with pytest.raises(state.RotationIncomplete) as refused:
                delivery.full(db.session, now=datetime.now(UTC), actor="system:test")
            assert refused.value.count == 3
            db.session.rollback()
            freshness_before = db.session.scalar(select(func.count()).select_from(Objection))
            report = rotation.rekey_batch(db.session, escrow.development_private_key(),
                                          by="system:test", now=datetime.now(UTC))
            db.session.commit()
            assert report.rekeyed == freshness_before == 4
            assert rotation.remaining(db.session) == (0, 0)
            full = export_full(tmp_path)
            assert full.name == exports.file_name(2, "full")
            header = full.read_text().split("\n\n")[0]
            assert "pseudonym-key: k2" in header
            assert sorted(_people(full)) == sorted(
                [("+", pseudonym_of(1, "k2"), "ALL"), ("+", pseudonym_of(2, "k2"), "ALL"),
                 ("+", pseudonym_of(4, "k2"), "HDH-2024-0001")])
            # A person's later filing under the new key still links to their first.
            again = file(1, token="after-rotation")
            assert again.linked_to_id == kept.id
            db.session.rollback()
    finally:
        rotated.extensions["database"]["engine"].dispose()


def test_a_sealed_nir_opens_only_with_the_escrow_private_key():
    private, public = escrow.new_key_pair()
    sealed = escrow.seal_to(escrow.parse_public_key(public), nir_of(7))
    assert escrow.open_sealed(sealed, escrow.parse_private_key(private)) == nir_of(7)
    with pytest.raises(escrow.EscrowError):
        escrow.open_sealed(sealed, escrow.development_private_key())
    with pytest.raises(escrow.EscrowError):
        escrow.open_sealed(sealed[:-1] + bytes([sealed[-1] ^ 1]),
                           escrow.parse_private_key(private))


def test_production_needs_the_signing_and_escrow_keys():
    from core.config import ConfigError
    from website.app import build_site_config

    environ = {"APP_ENV": "production", "SECRET_KEY": "s" * 40,
               "DATABASE_URL": "postgresql://x/y", "PSEUDONYM_KEYS": f"k1:{NEW_KEY}",
               "IDENTITY_ENCRYPTION_KEYS": f"i1:{NEW_KEY}", "MAIL_SERVER": "smtp.exemple.fr"}
    with pytest.raises(ConfigError, match=r"EXCLUSION_SIGNING_KEY.*NIR_ESCROW_PUBLIC_KEY"):
        build_site_config(environ=environ)
    _private, public = escrow.new_key_pair()
    config = build_site_config(environ={**environ,
                                        "EXCLUSION_SIGNING_KEY": signing.new_key_setting(),
                                        "NIR_ESCROW_PUBLIC_KEY": public})
    assert config["NIR_ESCROW_PUBLIC_KEY"] == public
    with pytest.raises(ConfigError, match="a key id is 1 to 32"):
        build_site_config(environ={**environ, "PSEUDONYM_KEYS": f"clé 1:{NEW_KEY}",
                                   "EXCLUSION_SIGNING_KEY": signing.new_key_setting(),
                                   "NIR_ESCROW_PUBLIC_KEY": public})


def test_an_export_keeps_memory_bounded_by_reading_in_batches(app, monkeypatch, tmp_path):
    """Batches smaller than the queue: the same result as one batch."""
    monkeypatch.setattr(state, "BATCH", 2)
    with app.app_context():
        file(0)
        db.session.commit()
        export_next(tmp_path)
        for person in range(1, 8):
            file(person)
        db.session.commit()
        export_next(tmp_path)
        delta = _people(tmp_path / exports.file_name(2, "delta"))
        assert sorted(delta) == sorted(("+", pseudonym_of(p), "ALL") for p in range(1, 8))


def test_the_first_pull_of_a_list_moves_its_filings_to_sent(app, tmp_path):
    with app.app_context():
        filing = file(1)
        db.session.commit()
        served = export_next(tmp_path)
        moved = delivery.mark_pulled(db.session, served.export, now=datetime.now(UTC),
                                     actor="platform:1")
        db.session.commit()
        assert moved == 1
        db.session.refresh(filing)
        assert filing.status == ObjectionStatus.SENT
        assert [e.action for e in filing.events][-1] == "sent_to_platform"
        assert datetime.now(UTC) - filing.status_changed_at < timedelta(minutes=1)
