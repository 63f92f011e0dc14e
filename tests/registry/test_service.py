"""The register's data: constraints, revisions, results accountability, objection window."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import column, func, insert, select, table, text
from sqlalchemy.exc import IntegrityError

from core.clock import add_months, months_between
from core.extensions import db
from registry import queries, revisions, rules, service, statistics, validation
from registry.models import Organisation, Project, ProjectRevision
from tests.registry.factories import TODAY, finished, make_project, project_data


@pytest.fixture
def ctx(app):
    with app.app_context():
        service.sync_data_sources(db.session)
        db.session.commit()
        yield db.session


def test_a_bad_reference_is_refused(ctx):
    with pytest.raises(validation.RegistryError) as error:
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
    with pytest.raises(validation.RegistryError) as error:
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
    with pytest.raises(validation.RegistryError) as error:
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
    comparison = revisions.compare_revisions(project.revisions[0].snapshot, latest.snapshot)
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
    state = rules.results_status(project, today=TODAY)
    assert (state.overdue, state.overdue_months, state.late) == (overdue, months, late)


def test_sponsor_record_and_ranking(ctx):
    finished("HDH-2022-0001", "2023-01-01",
             [{"kind": "article", "title": "A", "published_on": "2024-02-01"}])
    finished("HDH-2022-0002", "2023-01-01")
    finished("HDH-2022-0003", "2023-01-01", sponsor="Laboratoires Aurore",
             sponsor_kind="entreprise")
    organisation = ctx.scalar(select(Organisation).where(
        Organisation.name == "Centre hospitalier universitaire de Valmont"))
    record = statistics.sponsor_record(ctx, organisation, today=TODAY)
    assert (record.projects, record.due, record.on_time, record.overdue) == (2, 2, 1, 1)
    ranking = statistics.sponsor_ranking(ctx, today=TODAY)
    assert ranking[0].organisation.name == organisation.name


@pytest.mark.parametrize(("changes", "accepts"), [
    ({}, True),
    ({"objection_deadline": "2020-01-01"}, False),
    ({"status": "termine", "processing_ended_on": "2025-01-01"}, False),
    ({"objections_applied": False, "objection_exception_reason": "Loi"}, False),
])
def test_project_for_objection(ctx, changes, accepts):
    make_project(**changes)
    info = queries.project_for_objection(ctx, "hdh-2024-0001")
    assert info is not None and info.accepts_objections is accepts
    assert queries.project_for_objection(ctx, "HDH-2099-0001") is None


def test_key_figures(ctx):
    assert statistics.key_figures(ctx) is None
    make_project()
    figures = statistics.key_figures(ctx)
    assert figures[0]["value"] == 1


def test_add_months_handles_month_ends():
    assert add_months(date(2024, 8, 31), 18) == date(2026, 2, 28)
    assert months_between(date(2025, 1, 31), date(2025, 3, 1)) == 1


# --------------------------------------------------------------------------- every problem

def test_every_problem_is_reported_at_once(ctx):
    with pytest.raises(validation.InvalidProject) as error:
        service.save_project(ctx, project_data(
            title="", sources=["NOPE"], themes=["astrologie"], status="fini",
            planned_end="31/12/2026", period_start_year=0, sponsor_kind="secte"), by="t")
    fields = {e.field for e in error.value.errors}
    assert fields == {"title", "sources", "themes", "status", "planned_end",
                      "period_start_year", "sponsor_kind"}
    assert ctx.scalar(select(Project.id)) is None


def test_a_closed_project_needs_the_end_of_processing(ctx):
    with pytest.raises(validation.RegistryError) as error:
        service.save_project(ctx, project_data(status="abandonne"), by="t")
    assert error.value.field == "processing_ended_on"


def test_a_new_status_without_steps_records_a_dated_step(ctx):
    make_project()
    data = {"reference": "HDH-2024-0001", "status": "termine", "status_date": "2025-03-01",
            "processing_ended_on": "2025-02-28"}
    project, changed = service.save_project(ctx, data, by="t", today=TODAY)
    assert changed and project.status_events[-1].status == "termine"
    assert project.status_events[-1].happened_on == date(2025, 3, 1)
    assert project.title == project_data()["title"]  # keys left out keep their value
    for bad_date, message in (("2024-01-01", "antérieure"), ("2027-01-01", "futur")):
        data = {"reference": "HDH-2024-0001", "status": "abandonne", "status_date": bad_date,
                "processing_ended_on": "2025-02-28"}
        with pytest.raises(validation.RegistryError) as error:
            service.save_project(ctx, data, by="t", today=TODAY)
        assert error.value.field == "status_date" and message in error.value.message


# --------------------------------------------------------------------------- organisations

def _kind(ctx, name):
    return ctx.scalar(select(Organisation.kind).where(Organisation.name == name))


def test_naming_an_organisation_as_controller_or_funder_never_changes_it(ctx):
    make_project("HDH-2024-0001", sponsor="Inserm", sponsor_kind="recherche",
                 sponsor_city="Paris")
    make_project("HDH-2024-0002", sponsor="Laboratoires Aurore", sponsor_kind="entreprise",
                 controller="Inserm", funders=["Inserm", "Agence nationale de la recherche"])
    assert _kind(ctx, "Inserm") == "recherche"
    assert ctx.scalar(select(Organisation.city).where(Organisation.name == "Inserm")) == "Paris"
    # A new controller takes the sponsor's kind, a new funder "agence", unless given.
    assert _kind(ctx, "Agence nationale de la recherche") == "agence"
    make_project("HDH-2024-0003", sponsor="Laboratoires Aurore", sponsor_kind="entreprise",
                 controller="Fondation Lumen", controller_kind="association",
                 funders=["Mutuelle Azur"], funder_kinds=["entreprise"])
    assert _kind(ctx, "Fondation Lumen") == "association"
    assert _kind(ctx, "Mutuelle Azur") == "entreprise"


def test_changing_a_sponsor_refreshes_its_projects_in_the_search_index(ctx, app):
    from registry.search import SearchQuery, get_search_backend

    make_project("HDH-2024-0001")
    make_project("HDH-2024-0002")
    backend = get_search_backend(app)
    assert backend.search(SearchQuery(filters={"sponsor_kind": ["hopital"]})).total == 2
    make_project("HDH-2024-0003", sponsor_kind="recherche")  # same sponsor, said otherwise
    assert _kind(ctx, "Centre hospitalier universitaire de Valmont") == "recherche"
    assert backend.search(SearchQuery(filters={"sponsor_kind": ["recherche"]})).total == 3
    assert backend.search(SearchQuery(filters={"sponsor_kind": ["hopital"]})).total == 0
    organisation = ctx.scalar(select(Organisation))
    assert service.update_organisation(ctx, organisation, city="Brest") is True
    ctx.commit()
    assert backend.search(SearchQuery(text="Brest")).total == 3


# --------------------------------------------------------------------------- the database

def _insert(ctx, **changes):
    sponsor = ctx.scalar(select(Organisation))
    values = dict(reference="HDH-2024-0009", slug="autre", title="t", summary="s",
                  objective="o", public_interest="p", sponsor_id=sponsor.id,
                  legal_basis="autorisation-cnil", processing_location="plateforme",
                  status="depose", themes="[]", population="", uses_ai=False,
                  data_linkage=False, commercial=False, processing_location_detail="",
                  objections_applied=True, objection_exception_reason="", cnil_decision="",
                  created_at="2026-11-01 00:00:00", updated_at="2026-11-01 00:00:00")
    values.update(changes)  # untyped columns: what the database itself refuses
    ctx.execute(insert(table("projects", *(column(k) for k in values))).values(**values))


@pytest.mark.parametrize("changes", [
    {"slug": "hdh-2024-0001-parcours-de-soins-des-enfants-asthmatiques"},  # slug taken
    {"reference": "HDH-2024-0001"},                                       # reference taken
    {"title": None}, {"summary": None}, {"sponsor_id": None},             # required
    {"status": "fini"}, {"legal_basis": "au-feeling"},                    # not a value
    {"processing_location": "lune"}, {"reference": "HDH-24-1"},
    {"period_start_year": 2020, "period_end_year": 2010},
])
def test_the_database_refuses_what_the_register_forbids(ctx, changes):
    make_project("HDH-2024-0001")
    _insert(ctx, reference="HDH-2024-0010", slug="valide")  # the same row, valid, goes in
    with pytest.raises(IntegrityError):
        _insert(ctx, **changes)
    ctx.rollback()


def test_organisation_names_and_slugs_are_unique(ctx):
    make_project()
    existing = ctx.scalar(select(Organisation))
    for unique in ("name", "slug"):
        values = {"name": "Autre", "slug": "autre", unique: getattr(existing, unique)}
        ctx.add(Organisation(kind="hopital", city="", **values))
        with pytest.raises(IntegrityError):
            ctx.flush()
        ctx.rollback()


def _count(ctx, name: str) -> int:
    return ctx.scalar(select(func.count()).select_from(table(name)))


def test_deleting_a_project_deletes_its_steps_results_and_revisions(ctx):
    finished("HDH-2024-0001", "2024-01-31",
             [{"kind": "article", "title": "A", "published_on": "2024-06-01"}])
    tables = ("project_status_events", "project_results", "project_revisions",
              "project_sources")
    assert all(_count(ctx, t) for t in tables)
    ctx.execute(text("DELETE FROM projects"))  # the database's own ON DELETE CASCADE
    assert [_count(ctx, t) for t in tables] == [0] * 4
    assert ctx.scalar(select(Organisation.id)) is not None  # organisations stay
    ctx.rollback()
    ctx.delete(ctx.scalar(select(Project)))  # and the ORM's cascade
    ctx.flush()
    assert [_count(ctx, t) for t in tables] == [0] * 4


def test_overdue_results_are_at_least_one_month_late():
    from types import SimpleNamespace

    project = SimpleNamespace(processing_ended_on=date(2024, 1, 15), results=[],
                              status="termine", status_events=[])
    # Due 2025-07-15: a day late is "1 mois", never "0 mois".
    for today, months in ((date(2025, 7, 16), 1), (date(2025, 8, 14), 1),
                          (date(2025, 8, 15), 1), (date(2025, 9, 16), 2)):
        state = rules.results_status(project, today=today)
        assert state.overdue and state.overdue_months == months
    assert not rules.results_status(project, today=date(2025, 7, 15)).overdue


def test_the_ranking_never_hides_a_sponsor_with_results_overdue(ctx):
    finished("HDH-2022-0001", "2023-01-01")  # one project, overdue
    for number, sponsor in ((2, "Laboratoires Aurore"), (3, "Laboratoires Aurore"),
                            (4, "Université de Bellerive")):
        finished(f"HDH-2022-000{number}", "2023-01-01", sponsor=sponsor,
                 sponsor_kind="entreprise" if "Aurore" in sponsor else "recherche",
                 results=[{"kind": "article", "title": "A", "published_on": "2024-01-01"}])
    ranking = statistics.sponsor_ranking(ctx, today=TODAY, minimum_due=2)
    names = [r.organisation.name for r in ranking]
    # Two on time first; the sponsor with one overdue project is shown (last); a perfect
    # record on a single project waits for a second one.
    assert names == ["Laboratoires Aurore", "Centre hospitalier universitaire de Valmont"]


@pytest.mark.parametrize(("steps", "due"), [
    (["depose", "avis-favorable", "autorise"], False),  # withdrawn before any data
    (["depose", "autorise", "donnees-disponibles"], True),
    (["depose", "autorise", "en-cours"], True),
])
def test_results_are_due_only_once_data_were_made_available(ctx, steps, due):
    from flask import current_app

    from registry.rules import study_status
    from registry.search import SearchQuery, get_search_backend

    days = ["2022-01-10", "2022-03-01", "2022-06-01"]
    events = [{"status": s, "date": d} for s, d in zip(steps, days, strict=True)]
    project = make_project("HDH-2022-0001", status="abandonne", authorised_on="2022-03-01",
                           processing_ended_on="2023-01-01", sponsor="Fondation Prudente",
                           sponsor_kind="association",
                           status_events=[*events, {"status": "abandonne",
                                                    "date": "2023-01-01"}])
    state = rules.results_status(project, today=TODAY)
    assert (state.overdue, state.due_on is not None) == (due, due)
    assert study_status(project).endswith("/Terminated" if due else "/Withdrawn")
    ranked = [r.organisation.name for r in statistics.sponsor_ranking(ctx, today=TODAY)]
    assert ("Fondation Prudente" in ranked) == due
    assert dict(statistics.statistics(ctx, today=TODAY)["totals"])["overdue"] == int(due)
    backend = get_search_backend(current_app)
    assert backend.search(SearchQuery(filters={"overdue": ["oui"]}, today=TODAY)).total == \
        int(due)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)",
                                 "data:text/html,<b>x</b>", "//exemple.fr/x", "exemple.fr",
                                 "https://", "https://exemple.fr/a b", "ftp://exemple.fr/x",
                                 "vbscript:msgbox(1)"])
def test_result_links_are_web_addresses_only(ctx, url):
    result = {"kind": "article", "title": "A", "published_on": "2024-02-01", "url": url}
    with pytest.raises(validation.InvalidProject) as error:
        finished("HDH-2022-0001", "2023-01-01", [result])
    [problem] = error.value.errors
    assert problem.field == "results"
    assert "résultat 1 : adresse" in problem.message and "http:// ou https://" in problem.message


@pytest.mark.parametrize(("given", "stored"), [
    ("10.1234/abc", "10.1234/abc"), ("doi:10.1234/abc", "10.1234/abc"),
    ("https://doi.org/10.1016/j.x.2024.01.002", "10.1016/j.x.2024.01.002"),
    ("http://dx.doi.org/10.1/x", "10.1/x")])
def test_dois_are_stored_bare(ctx, given, stored):
    result = {"kind": "article", "title": "A", "published_on": "2024-02-01", "doi": given,
              "url": "https://exemple.fr/article?id=1"}
    project = finished("HDH-2022-0001", "2023-01-01", [result])
    assert (project.results[0].doi, project.results[0].url) == (
        stored, "https://exemple.fr/article?id=1")


@pytest.mark.parametrize("doi", ["javascript:alert(1)", "11.1234/abc", "10.1234", "abc"])
def test_a_doi_must_be_one(ctx, doi):
    result = {"kind": "article", "title": "A", "published_on": "2024-02-01", "doi": doi}
    with pytest.raises(validation.InvalidProject) as error:
        finished("HDH-2022-0001", "2023-01-01", [result])
    assert "DOI" in error.value.errors[0].message and "10." in error.value.errors[0].message
