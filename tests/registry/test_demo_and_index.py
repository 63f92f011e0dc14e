"""The demo register, and the search index following the database."""

from __future__ import annotations

from sqlalchemy import func, select

from registry import service
from registry.demo import build_demo
from registry.models import Organisation, Project, ProjectStatus
from registry.search import SearchQuery, get_search_backend
from tests.registry.factories import make_project
from website.extensions import db


def test_demo_register_is_large_varied_and_deterministic(app, runner):
    result = runner.invoke(args=["registry", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = db.session
        assert session.scalar(select(func.count(Project.id))) >= 400
        assert session.scalar(select(func.count(Organisation.id))) >= 60
        statuses = set(session.scalars(select(Project.status).distinct()))
        assert statuses == set(ProjectStatus)
        projects = service.all_projects(session)
        assert any(p.results for p in projects if p.status == "termine")
        assert any(service.results_status(p).overdue for p in projects)
        assert any(not p.objections_applied for p in projects)
        assert any(len(p.revisions) > 1 for p in projects)
        texts = [t for p in projects for t in (p.title, p.objective, *(r.title for r in p.results))]
        assert not [t for t in texts if any(w in t for w in (" de le ", " à le ", " de les "))]
        references = [p.reference for p in projects][:20]
        titles = [p.title for p in projects][:20]
    again = runner.invoke(args=["registry", "demo", "--if-empty"])
    assert "déjà" in again.output
    # Same seed, fresh build: same register.
    with app.app_context():
        from tests.conftest import _empty_tables

        _empty_tables(app.config["DATABASE_URL"])
        build_demo(db.session, count=420)
        db.session.commit()
        rebuilt = service.all_projects(db.session)
        assert [p.reference for p in rebuilt][:20] == references
        assert [p.title for p in rebuilt][:20] == titles


def test_saving_updates_the_index(app):
    with app.app_context():
        make_project("HDH-2024-0001", title="Vaccination des adolescents")
        backend = get_search_backend(app)
        assert backend.search(SearchQuery(text="vaccination")).total == 1
        make_project("HDH-2024-0001", title="Sommeil des adolescents")
        assert backend.search(SearchQuery(text="vaccination")).total == 0
        assert backend.search(SearchQuery(text="sommeil")).total == 1


def test_rolled_back_changes_never_reach_the_index(app):
    with app.app_context():
        service.sync_data_sources(db.session)
        from tests.registry.factories import project_data

        service.save_project(db.session, project_data(title="Projet annulé"), by="t")
        db.session.rollback()
        assert get_search_backend(app).search(SearchQuery(text="annulé")).total == 0


def test_reindex_command_matches_the_database(app, runner):
    with app.app_context():
        for number in range(1, 6):
            make_project(f"HDH-2024-{number:04d}")
        expected = set(db.session.scalars(select(Project.id)))
        backend = get_search_backend(app)
        backend.remove(list(expected)[:2])  # an index that drifted
    result = runner.invoke(args=["registry", "reindex"])
    assert result.exit_code == 0 and "5 projets indexés" in result.output
    with app.app_context():
        assert get_search_backend(app).ids() == expected
    skipped = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "existe déjà" in skipped.output


def test_demo_text_uses_french_contractions():
    from registry.demo import french

    assert french("Inégalités face à le cancer") == "Inégalités face au cancer"
    assert french("Le coût de les antidépresseurs") == "Le coût des antidépresseurs"
