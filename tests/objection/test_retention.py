"""Retention: a filing withdrawn a year ago is erased by `flask objection purge`, as the form and
the privacy page promise, and the public statistics do not move."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select

from core.clock import add_months
from core.extensions import db
from objection import followup, queries, retention, service, statistics
from objection.identity import parse_nir
from objection.keys import keyring
from objection.models import Filer, Objection, ObjectionEvent, ObjectionStatus, OutboxMail, Scope
from tests.objection.factories import make_nir

FILED = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
WITHDRAWN = datetime(2025, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 on 1 December 2025 in Paris
JUST_BEFORE_A_YEAR = datetime(2026, 11, 30, 22, 59, tzinfo=UTC)  # 23:59 on 30 Nov in Paris
A_YEAR_AFTER = datetime(2026, 11, 30, 23, 1, tzinfo=UTC)  # 00:01 on 1 December in Paris


def _file(body: str = "2850375056123", token: str = "t", email: str = "p@exemple.fr",
          now: datetime = FILED) -> queries.Filing:
    return service.file_objection(db.session, service.FilingInput(
        filer=Filer.SELF, scope=Scope.GENERAL, project_reference=None,
        nir=parse_nir(make_nir(body)), birth_name="X", first_names="Y",
        birth_date=date(1985, 3, 14), sex="F", email=email), form_token=token, now=now)


def _everything_stored() -> str:
    """Every value of every objection table, as text, to search for what must be gone."""
    texts = []
    for model in (Objection, ObjectionEvent, OutboxMail):
        columns = [c.key for c in inspect(model).mapper.column_attrs]
        for row in db.session.scalars(select(model)):
            texts.extend(repr(getattr(row, name)) for name in columns)
    return "\n".join(texts)


def test_a_filing_withdrawn_a_year_ago_is_erased_but_still_counted(app):
    with app.app_context():
        own = _file()
        stranger = _file(token="t2", email="stranger@exemple.fr")  # linked to the first one
        db.session.commit()
        reference, code = own.objection.reference, own.followup_code
        service.withdraw(db.session, own.objection, by="citizen:web", now=WITHDRAWN)
        db.session.commit()
        _, pseudonym = keyring().pseudonymise(make_nir("2850375056123"))
        figures = statistics.public_statistics(db.session)
        version = statistics.statistics_version(db.session)

        assert retention.erase_withdrawn(db.session, now=JUST_BEFORE_A_YEAR) == (0, [])
        assert db.session.get(Objection, own.objection.id).pseudonym == pseudonym

        assert retention.erase_withdrawn(db.session, now=A_YEAR_AFTER) == (1, [])
        db.session.commit()
        erased = db.session.get(Objection, own.objection.id)
        assert retention.is_erased(erased) and erased.email_sealed == b""
        assert erased.linked_to_id is None and erased.reference == reference
        assert [e.action for e in erased.events] == ["erased"]
        assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.objection_id == erased.id)) == 0
        # the person's pseudonym now only belongs to the filing still in force
        heir = db.session.get(Objection, stranger.objection.id)
        assert heir.status == ObjectionStatus.RECEIVED and heir.pseudonym == pseudonym
        stored = _everything_stored()
        assert stored.count(pseudonym) == 1
        # coarse facts stay, so the published figures and the page's ETag do not move
        assert (erased.month_filed, erased.age_band, erased.sex) == ("2025-11", "30-44", "F")
        assert statistics.public_statistics(db.session) == figures
        assert statistics.statistics_version(db.session) == version
        # the old follow-up code opens nothing any more, like any wrong code
        assert followup.find_for_followup(db.session, reference, code) is None
        # a second run has nothing left to do
        assert retention.erase_withdrawn(db.session, now=A_YEAR_AFTER) == (0, [])


def test_filings_in_force_or_withdrawn_recently_are_kept(app):
    with app.app_context():
        in_force = _file(now=FILED - timedelta(days=3 * 365))
        recent = _file("1850375056123", token="t2")
        db.session.commit()
        service.withdraw(db.session, recent.objection, by="citizen:web",
                         now=A_YEAR_AFTER - timedelta(days=200))
        db.session.commit()
        assert retention.erase_withdrawn(db.session, now=A_YEAR_AFTER) == (0, [])
        assert not any(retention.is_erased(o) for o in db.session.scalars(select(Objection)))
        assert in_force.objection.status == ObjectionStatus.RECEIVED


def test_the_daily_purge_erases_and_names_the_filings_a_review_holds(app, monkeypatch):
    """Nothing can clear a pending withdrawal review yet (the staff back-office comes later): a
    held erasure is reported, but the daily cron succeeds; only a real failure exits 1."""
    runner = app.test_cli_runner()
    with app.app_context():
        long_ago = datetime.now(UTC) - timedelta(days=400)
        first = _file(now=long_ago - timedelta(days=1))
        linked = _file(token="t2", email="other@exemple.fr", now=long_ago - timedelta(days=1))
        lone = _file("1850375056123", token="t3", now=long_ago - timedelta(days=1))
        db.session.commit()
        service.withdraw(db.session, linked.objection, by="citizen:web", now=long_ago)
        service.withdraw(db.session, lone.objection, by="citizen:web", now=long_ago)
        db.session.commit()
        assert linked.objection.withdrawal_review and first.objection.linked_to_id is None
    result = runner.invoke(args=["objection", "purge"])
    assert "1 demande(s) retirée(s) ou refusée(s) depuis un an ou plus effacée(s)" in result.output
    # what it says stays is what stays (docs/objection.md), not only the statistics' facts
    assert ("restent la référence, le statut, les dates, la portée, le projet, le déposant, "
            "le canal, la langue et, pour les statistiques, le mois, la tranche d'âge et le "
            "sexe") in result.output
    # the linked filing's withdrawal still awaits staff: held, and the operator is told which
    assert result.exit_code == 0, result.output
    assert "1 demande(s) retirée(s) depuis un an ou plus attendent la revue" in result.output
    assert linked.objection.reference in result.output
    assert "flask objection reviews" in result.output
    with app.app_context():
        kept = db.session.get(Objection, linked.objection.id)
        assert not retention.is_erased(kept) and kept.linked_to_id == first.objection.id
        assert retention.is_erased(db.session.get(Objection, lone.objection.id))
    # held again the next day: still a success
    assert runner.invoke(args=["objection", "purge"]).exit_code == 0

    def broken(*_args, **_kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(retention, "erase_withdrawn", broken)
    assert runner.invoke(args=["objection", "purge"]).exit_code == 1


def _other_rows(erased_id: int) -> tuple[str, set[int | None]]:
    """Every value of every objection table outside the erased filing's own row, as text, and
    every objection id those rows point at."""
    texts, pointers = [], set()
    for model, own in ((Objection, Objection.id), (ObjectionEvent, ObjectionEvent.objection_id),
                       (OutboxMail, OutboxMail.objection_id)):
        columns = [c.key for c in inspect(model).mapper.column_attrs]
        for row in db.session.scalars(select(model).where(own != erased_id)):
            texts.extend(repr(getattr(row, name)) for name in columns)
            pointers.add(row.linked_to_id if model is Objection else row.objection_id)
    return "\n".join(texts), pointers


def test_no_other_filing_of_the_person_still_points_at_an_erased_one(app):
    """The person's other filings named the erased one (became_primary after=…, a linked
    filing's link and its withdrawal_review_requested primary=…, a staff reason quoting it):
    after the erasure nothing ties the erased row to the person's pseudonym any more, and the
    objection still in force stays correct."""
    with app.app_context():
        first = _file()
        heir = _file(token="t2", email="heir@exemple.fr")
        reviewed = _file(token="t3", email="reviewed@exemple.fr")
        duplicate = _file(token="t4", email="duplicate@exemple.fr")
        db.session.commit()
        reference, first_id = first.objection.reference, first.objection.id
        service.withdraw(db.session, reviewed.objection, by="citizen:web", now=WITHDRAWN)
        # rejected later: a rejected filing is erased a year after its rejection (not yet here)
        service.change_status(db.session, duplicate.objection, ObjectionStatus.REJECTED,
                              by="staff:test", reason=f"doublon de {reference.lower()}",
                              now=WITHDRAWN + timedelta(days=60))
        service.withdraw(db.session, first.objection, by="citizen:web", now=WITHDRAWN)
        db.session.commit()
        assert heir.objection.linked_to_id is None  # took over from the first filing
        assert reference in _other_rows(first_id)[0]

        held = [reviewed.objection.reference]  # its withdrawal awaits staff
        assert retention.erase_withdrawn(db.session, now=A_YEAR_AFTER) == (1, held)
        db.session.commit()
        assert retention.is_erased(db.session.get(Objection, first_id))
        texts, pointers = _other_rows(first_id)
        assert reference not in texts.upper() and first_id not in pointers
        # nor do its times: the heir took over at the exact moment of its withdrawal
        erased = db.session.get(Objection, first_id)
        month_start = datetime.combine(date.fromisoformat(erased.month_filed + "-01"), time(),
                                       ZoneInfo("Europe/Paris"))
        assert erased.created_at == erased.effective_from == erased.status_changed_at
        assert erased.created_at == month_start
        assert erased.answer_due_on == add_months(month_start.date(), 1)
        # the objection in force is untouched; the pending review names it instead
        heir = db.session.get(Objection, heir.objection.id)
        assert heir.status == ObjectionStatus.RECEIVED and heir.linked_to_id is None
        assert db.session.get(Objection, reviewed.objection.id).linked_to_id == heir.id
        assert db.session.get(Objection, duplicate.objection.id).linked_to_id == heir.id
        [item] = queries.filings_to_review(db.session, now=A_YEAR_AFTER)
        assert f"liée à {heir.reference}" in item.reason
