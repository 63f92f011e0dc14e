"""The register's data: constraints, revisions, results accountability, objection window."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry import service
from registry.models import Organisation, Project, ProjectRevision
from tests.registry.factories import TODAY, finished, make_project, project_data
from website.extensions import db


@pytest.fixture
def ctx(app):
    with app.app_context():
        service.sync_data_sources(db.session)
        db.session.commit()
        yield db.session


def test_a_bad_reference_is_refused(ctx):
    with pytest.raises(service.RegistryError) as error:
        service.save_project(ctx, project_data("HDH-24-1"), by="t")
    assert error.value.field == "reference"


def test_reference_is_unique_in_the_database(ctx):
    make_project("HDH-2024-0001")
    sponsor = ctx.scalar(select(Organisation))
    ctx.add(Project(reference="HDH-2024-0001", slug="autre", title="t", summary="s",
                    objective="o", public_interest="p", sponsor=sponsor,
                    legal_basis="autorisation-cnil", processing_location="plateforme",
                    status="depose", themes=[]))
    with pytest.raises(IntegrityError):
        ctx.flush()


def test_objections_not_applied_need_a_reason(ctx):
    with pytest.raises(service.RegistryError) as error:
        service.save_project(ctx, project_data(objections_applied=False), by="t")
    assert error.value.field == "objection_exception_reason"


def test_the_database_itself_refuses_a_missing_exception_reason(ctx):
    project = make_project()
    project.objections_applied = False
    project.objection_exception_reason = ""
    with pytest.raises(IntegrityError):
        ctx.flush()


@pytest.mark.parametrize(("changes", "field"), [
    ({"sources": ["NOPE"]}, "sources"), ({"sources": []}, "sources"),
    ({"themes": ["astrologie"]}, "themes"), ({"status": "fini"}, "status"),
    ({"planned_end": "31/12/2026"}, "planned_end"), ({"title": ""}, "title"),
    ({"sponsor_kind": "secte"}, "sponsor_kind"),
    ({"period_start_year": 2020, "period_end_year": 2010}, "period_end_year"),
])
def test_invalid_data_names_its_field(ctx, changes, field):
    with pytest.raises(service.RegistryError) as error:
        service.save_project(ctx, project_data(**changes), by="t")
    assert error.value.field == field


def test_first_save_writes_revision_one(ctx):
    project = make_project(by="Alice")
    assert [(r.number, r.author) for r in project.revisions] == [(1, "Alice")]
    assert project.revisions[0].snapshot["title"] == project.title


def test_saving_the_same_data_again_changes_nothing(ctx):
    make_project()
    _, changed = service.save_project(ctx, project_data(), by="Bob")
    ctx.commit()
    assert changed is False
    assert ctx.scalar(select(ProjectRevision.number).order_by(ProjectRevision.number.desc())) == 1


def test_a_change_records_who_what_and_when(ctx):
    make_project()
    project, changed = service.save_project(
        ctx, project_data(status="termine", processing_ended_on="2025-01-31"), by="Bob")
    ctx.commit()
    assert changed
    latest = project.revisions[-1]
    assert latest.number == 2 and latest.author == "Bob"
    assert set(latest.changed_fields) == {"status", "processing_ended_on"}
    comparison = service.compare_revisions(project.revisions[0].snapshot, latest.snapshot)
    assert ("status", "en-cours", "termine") in comparison


def test_record_status_adds_a_dated_step(ctx):
    project = make_project()
    service.record_status(ctx, project, status="termine", on=date(2025, 5, 2), by="Chloé")
    ctx.commit()
    assert project.status_events[-1].status == "termine"
    assert project.processing_ended_on == date(2025, 5, 2)
    assert project.revisions[-1].author == "Chloé"


@pytest.mark.parametrize(("ended", "results", "overdue", "months", "late"), [
    ("2024-01-15", [], True, 15, False),          # due 2025-07-15, none by 2026-11-01
    ("2025-12-01", [], False, 0, False),          # due 2027-06-01: not yet
    ("2023-01-01", [{"kind": "article", "title": "A", "published_on": "2025-01-01"}],
     False, 0, True),                              # due 2024-07-01, published later
    ("2023-01-01", [{"kind": "rapport", "title": "B", "published_on": "2024-02-01"}],
     False, 0, False),                             # on time
])
def test_results_are_due_18_months_after_processing(ctx, ended, results, overdue, months, late):
    project = finished("HDH-2022-0001", ended, results)
    state = service.results_status(project, today=TODAY)
    assert (state.overdue, state.overdue_months, state.late) == (overdue, months, late)


def test_sponsor_record_and_ranking(ctx):
    finished("HDH-2022-0001", "2023-01-01",
             [{"kind": "article", "title": "A", "published_on": "2024-02-01"}])
    finished("HDH-2022-0002", "2023-01-01")
    finished("HDH-2022-0003", "2023-01-01", sponsor="Laboratoires Aurore",
             sponsor_kind="entreprise")
    organisation = ctx.scalar(select(Organisation).where(
        Organisation.name == "Centre hospitalier universitaire de Valmont"))
    record = service.sponsor_record(ctx, organisation, today=TODAY)
    assert (record.projects, record.due, record.on_time, record.overdue) == (2, 2, 1, 1)
    ranking = service.sponsor_ranking(ctx, today=TODAY)
    assert ranking[0].organisation.name == organisation.name


@pytest.mark.parametrize(("changes", "accepts"), [
    ({}, True),
    ({"objection_deadline": "2020-01-01"}, False),
    ({"status": "termine"}, False),
    ({"objections_applied": False, "objection_exception_reason": "Loi"}, False),
])
def test_project_for_objection(ctx, changes, accepts):
    make_project(**changes)
    info = service.project_for_objection(ctx, "hdh-2024-0001")
    assert info is not None and info.accepts_objections is accepts
    assert service.project_for_objection(ctx, "HDH-2099-0001") is None


def test_key_figures(ctx):
    assert service.key_figures(ctx) is None
    make_project()
    figures = service.key_figures(ctx)
    assert figures[0]["value"] == 1


def test_add_months_handles_month_ends():
    assert service.add_months(date(2024, 8, 31), 18) == date(2026, 2, 28)
    assert service.months_between(date(2025, 1, 31), date(2025, 3, 1)) == 1
