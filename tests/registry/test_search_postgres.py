"""The PostgreSQL search backend in the site: written in the same transaction as the save,
rebuilt and checked by ``flask registry reindex``, refused on another database, created by its
migration (and nothing on SQLite). Its search answers are tested with Whoosh's, in
test_search.py and test_search_quality.py."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import event, inspect, select, text

from core.database import make_engine
from core.extensions import db
from core.migrations import alembic_config
from registry import service
from registry.models import Organisation, Project
from registry.search import SearchQuery, check_config, get_search_backend, index_version
from registry.search.postgres import PostgresBackend, schema
from tests.conftest import _empty_tables, make_test_app
from tests.registry.factories import make_project, project_data
from tests.registry.search_backends import empty_postgres_index
from website.tables import import_models


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    """The site on PostgreSQL with ``SEARCH_BACKEND=postgres``, its index never written."""
    import_models()
    app = make_test_app(postgres_url, tmp_path / "instance", SEARCH_BACKEND="postgres")
    engine = app.extensions["database"]["engine"]
    empty_postgres_index(engine)
    yield app
    empty_postgres_index(engine)
    engine.dispose()
    _empty_tables(postgres_url)


def _outside(url: str, sql: str) -> int:
    """A count read on a connection of its own: what other processes see."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(sql))
    finally:
        engine.dispose()


def test_the_search_row_is_written_in_the_saves_transaction(pg_app, postgres_url):
    with pg_app.app_context():
        session = db.session
        service.sync_data_sources(session)
        session.commit()
        service.save_project(session, project_data(title="Vaccination des adolescents"),
                             by="t")
        seen: dict[str, int] = {}

        @event.listens_for(session, "before_commit")
        def just_before_the_commit(session):  # runs after the service's own listener
            seen["inside"] = session.connection().scalar(text(
                "SELECT count(*) FROM search_documents"))
            seen["outside"] = _outside(postgres_url, "SELECT count(*) FROM search_documents")

        session.commit()
        assert seen == {"inside": 1, "outside": 0}
        assert _outside(postgres_url, "SELECT count(*) FROM search_documents") == 1
        backend = get_search_backend(pg_app)
        assert backend.search(SearchQuery(text="vaccination")).total == 1
        make_project("HDH-2024-0001", title="Sommeil des adolescents")
        assert backend.search(SearchQuery(text="vaccination")).total == 0
        assert backend.search(SearchQuery(text="sommeil")).total == 1


def test_a_rolled_back_save_leaves_no_search_row(pg_app, postgres_url):
    with pg_app.app_context():
        service.sync_data_sources(db.session)
        service.save_project(db.session, project_data(title="Projet annulé"), by="t")
        db.session.flush()
        db.session.rollback()
        assert get_search_backend(pg_app).search(SearchQuery(text="annulé")).total == 0
    assert _outside(postgres_url, "SELECT count(*) FROM search_documents") == 0


def test_a_save_whose_index_write_fails_is_not_saved(pg_app, postgres_url, monkeypatch):
    """The register and its index never disagree: if the index cannot be written, the save
    fails with it (Whoosh, written after the commit, logs and waits for a reindex)."""
    def broken(self, connection, documents):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(PostgresBackend, "index_in", broken)
    with pg_app.app_context():
        service.sync_data_sources(db.session)
        service.save_project(db.session, project_data(), by="t")
        with pytest.raises(RuntimeError, match="index unavailable"):
            db.session.commit()
        db.session.rollback()
    assert _outside(postgres_url, "SELECT count(*) FROM projects") == 0


def test_an_organisation_change_refreshes_its_projects_in_the_same_transaction(pg_app):
    with pg_app.app_context():
        make_project("HDH-2024-0001")
        make_project("HDH-2024-0002")
        backend = get_search_backend(pg_app)
        version = index_version(pg_app)
        organisation = db.session.scalar(select(Organisation))
        assert service.update_organisation(db.session, organisation, city="Brest",
                                           kind="recherche")
        db.session.commit()
        assert backend.search(SearchQuery(text="Brest")).total == 2
        assert backend.search(SearchQuery(filters={"sponsor_kind": ["recherche"]})).total == 2
        assert index_version(pg_app)[0] != version[0]


def test_reindex_and_if_missing_on_postgres(pg_app, postgres_url):
    runner = pg_app.test_cli_runner()
    with pg_app.app_context():
        for number in range(1, 4):
            make_project(f"HDH-2024-{number:04d}")
        expected = set(db.session.scalars(select(Project.id)))
    assert runner.invoke(args=["registry", "reindex", "--if-missing"]).output.count(
        "existe déjà et correspond au registre") == 1
    with pg_app.app_context():
        db.session.execute(text("DELETE FROM search_documents WHERE project_id = "
                                "(SELECT min(project_id) FROM search_documents)"))
        db.session.commit()
    partial = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "contient 2 projet(s), le registre 3" in partial.output, partial.output
    assert "3 projets indexés" in partial.output
    with pg_app.app_context():
        assert get_search_backend(pg_app).ids() == expected
        # Rows written by an older version of the code: not used, and rebuilt.
        db.session.execute(text("UPDATE search_state SET schema_version = :old"),
                           {"old": schema.SCHEMA_VERSION - 1})
        db.session.commit()
        assert not get_search_backend(pg_app).exists()
        assert not get_search_backend(pg_app).search(SearchQuery(text="asthme")).ready
    older = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "schéma plus ancien" in older.output and "3 projets indexés" in older.output
    with pg_app.app_context():
        assert get_search_backend(pg_app).search(SearchQuery(text="asthme")).total == 3


def test_a_rebuild_changes_the_validators_of_searched_pages(pg_app):
    client, runner = pg_app.test_client(), pg_app.test_cli_runner()
    with pg_app.app_context():
        make_project("HDH-2024-0001")
    first = client.get("/projets?q=asthme")
    assert first.status_code == 200 and "HDH-2024-0001" in first.text
    project = client.get("/projets/HDH-2024-0001")
    assert runner.invoke(args=["registry", "reindex"]).exit_code == 0
    assert client.get("/projets?q=asthme",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    assert client.get("/projets/HDH-2024-0001",
                      headers={"If-None-Match": project.headers["ETag"]}).status_code == 304


def test_the_backend_needs_postgresql(tmp_path):
    assert check_config({"SEARCH_BACKEND": "postgres",
                         "DATABASE_URL": "postgresql://app@db/hdh"}) == []
    assert check_config({"SEARCH_BACKEND": "postgres",
                         "DATABASE_URL": "postgres://app@db/hdh"}) == []
    [problem] = check_config({"SEARCH_BACKEND": "postgres",
                              "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    assert "PostgreSQL" in problem and "sqlite" in problem
    [unknown] = check_config({"SEARCH_BACKEND": "elastic"})
    assert "postgres" in unknown and "whoosh" in unknown
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        PostgresBackend(make_engine(f"sqlite:///{tmp_path}/x.sqlite3"))


def test_production_refuses_to_start_with_postgres_search_on_sqlite(tmp_path):
    from core.config import ConfigError
    from website.app import create_app

    settings = {"APP_ENV": "production", "SECRET_KEY": "k" * 40,
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
                "PSEUDONYM_KEYS": "k1:" + "A" * 44, "IDENTITY_ENCRYPTION_KEYS": "k1:" + "B" * 44,
                "MAIL_SERVER": "smtp.exemple.fr", "SEARCH_BACKEND": "postgres",
                "SEARCH_INDEX_DIR": str(tmp_path / "search"), "INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="SEARCH_BACKEND=postgres"):
        create_app(settings)


def test_the_migration_creates_what_the_backend_reads(postgres_url):
    engine = make_engine(postgres_url)
    try:
        found = inspect(engine)
        for table in schema.metadata.sorted_tables:
            columns = {c["name"]: c for c in found.get_columns(table.name)}
            assert set(columns) == set(table.columns.keys()), table.name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, column
                assert type(columns[column.name]["type"]) is type(column.type) or (
                    column.type.python_type is columns[column.name]["type"].python_type)
        with engine.connect() as connection:
            assert connection.scalar(text(
                "SELECT to_tsvector('hdh_french', 'HÔPITAUX Hôpital hôpital')::text")) == \
                "'hopital':1,2,3"
            assert connection.scalar(text("SELECT similarity('cardiolgie', 'cardiologie')")) > 0.5
    finally:
        engine.dispose()


def test_the_migration_does_nothing_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/migrated.sqlite3"
    config = alembic_config(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert "projects" in tables and not tables & set(schema.metadata.tables)
        command.downgrade(config, "0004_versions_and_counts")
        command.upgrade(config, "0005_search_postgres")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == \
                "0005_search_postgres"
        assert not set(inspect(engine).get_table_names()) & set(schema.metadata.tables)
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_a_row_holds_only_what_a_search_document_has():
    """Like Whoosh's fields (test_demo_and_index.py): every key of a search document is read,
    and nothing that depends on the day is stored (overdue is judged at query time)."""
    from datetime import date

    from registry.search import DOCUMENT_FIELDS
    from registry.search.postgres import analysis
    from tests.registry.test_search import doc

    class Read(dict):
        def __init__(self, *args):
            super().__init__(*args)
            self.read: set[str] = set()

        def __getitem__(self, key):
            self.read.add(key)
            return super().__getitem__(key)

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

    document = Read(doc(7, "L'hôpital de jour", "Un résumé.", city="Brest", keywords="Asthme",
                        results_due_on=date(2026, 3, 1)))
    row = analysis.row(document)
    analysis.spelling_words(document)
    assert document.read == DOCUMENT_FIELDS == set(document)
    assert "overdue" not in row and row["results_due_on"] == date(2026, 3, 1)
    assert (row["text_a"], row["text_b"]) == ("L hôpital de jour",
                                              "Asthme Un résumé Organisme Brest")
    assert analysis.spelling_words(document) >= {"hôpital", "jour", "résumé", "asthme"}
