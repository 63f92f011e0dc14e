"""Any sequence of filings, reviews, withdrawals, rejections and exports: the deltas, applied
in order to the first full export, always give the latest full export, and that full export
is exactly the people and scopes in force (one line each, whatever their filings)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from core.extensions import db
from objection import service
from objection.exclusions import exports, signing
from objection.exclusions.models import IN_FORCE
from objection.exclusions.verifier import check_chain
from objection.models import Filer, Objection, ObjectionStatus
from tests.conftest import _empty_tables
from tests.objection.exclusions.factories import (
    export_full,
    export_next,
    file,
    lines,
    pseudonym_of,
    verify,
)

PROJECTS = [None, "HDH-2024-0001", "HDH-2025-0002"]
_tokens = itertools.count()


def machine(app, database_url: str) -> type[RuleBasedStateMachine]:
    class Exclusions(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.context = app.app_context()
            self.context.push()
            self.folder = tempfile.TemporaryDirectory()
            self.directory = Path(self.folder.name)
            self.people: dict[int, tuple[int, str]] = {}  # filing id -> (person, scope)
            self.chain: list[Path] = []

        def teardown(self) -> None:
            db.session.rollback()
            self.context.pop()
            app.extensions["database"]["engine"].dispose()
            _empty_tables(database_url)
            self.folder.cleanup()

        def _with_status(self, *statuses: ObjectionStatus) -> list[Objection]:
            return list(db.session.scalars(select(Objection).where(
                Objection.status.in_(statuses)).order_by(Objection.id)))

        @rule(person=st.integers(0, 4), project=st.sampled_from(PROJECTS),
              proxy=st.booleans())
        def file_one(self, person: int, project: str | None, proxy: bool) -> None:
            filing = file(person, project=project, filer=Filer.CHILD if proxy else Filer.SELF,
                          token=f"machine-{next(_tokens)}")
            db.session.commit()
            self.people[filing.id] = (person, project or "ALL")

        @precondition(lambda self: bool(self.people))
        @rule(data=st.data())
        def review(self, data) -> None:
            waiting = self._with_status(ObjectionStatus.TO_REVIEW)
            if waiting:
                filing = data.draw(st.sampled_from(waiting))
                if data.draw(st.booleans()):
                    verify(filing)
                else:
                    service.change_status(db.session, filing, ObjectionStatus.REJECTED,
                                          by="staff:1", reason="Justificatif illisible.")
                db.session.commit()

        @precondition(lambda self: bool(self.people))
        @rule(data=st.data())
        def withdraw(self, data) -> None:
            active = self._with_status(ObjectionStatus.RECEIVED, ObjectionStatus.TO_REVIEW,
                                       ObjectionStatus.VERIFIED, ObjectionStatus.SENT,
                                       ObjectionStatus.APPLIED)
            if active:
                service.withdraw(db.session, data.draw(st.sampled_from(active)),
                                 by="citizen:web")
                db.session.commit()

        @rule()
        def export(self) -> None:
            served = export_next(self.directory)
            if served is not None:
                self.chain.append(self.directory / exports.file_name(served.export.sequence,
                                                                    served.export.kind))

        @rule()
        def compare_with_a_full_export(self) -> None:
            self.export()
            full = export_full(self.directory)
            if full is None:
                assert not self.chain
                return
            proved = check_chain([*self.chain, full], signing.public_key())
            if len(self.chain) > 1:
                assert "égale à" in proved[-1]
            in_force = {(pseudonym_of(self.people[o.id][0]), self.people[o.id][1])
                        for o in self._with_status(*IN_FORCE)}
            written = [(line.split(";")[1], line.split(";")[2]) for line in lines(full)]
            assert len(written) == len(set(written))  # one line per person and scope
            assert set(written) == in_force

    return Exclusions


def test_deltas_applied_in_order_always_give_the_latest_full_export(app, database_url):
    run_state_machine_as_test(
        machine(app, database_url),
        settings=settings(max_examples=20, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow]))
