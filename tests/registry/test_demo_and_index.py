"""The demo register, and the search index following the database."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from registry import queries, rules, service
from registry.catalogue import DATA_SOURCES
from registry.demo import (
    CITIES,
    PLACES,
    build_organisations,
    build_projects,
    de,
    versions,
)
from registry.models import Organisation, Project, ProjectStatus
from registry.search import SearchQuery, documents, get_search_backend
from tests.registry.factories import TODAY, make_project

CATALOGUE = {spec["code"]: spec for spec in DATA_SOURCES}


def kind_from_name(name: str) -> str | None:
    """The kind an organisation's name announces (checks the demo stays plausible)."""
    rules = (("hopital", r"^(Centre hospitalier|Hôpital|Groupe hospitalier)"),
             ("recherche", r"^(Université|Institut de recherche|Laboratoire d'|École)"),
             ("agence", r"^(Observatoire|Agence|Caisse|Programme|Fonds)"),
             ("association", r"^(Association|Fondation|Société)"),
             ("entreprise", r"^(Laboratoires|Mutuelle)|(Pharma|Dispositifs médicaux)$"),
             ("start-up", r"(Santé|Analytics|IA médicale)$|^Data"))
    return next((kind for kind, pattern in rules if re.search(pattern, name)), None)


def test_demo_register_is_large_varied_and_realistic(app, runner):
    result = runner.invoke(args=["registry", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = db.session
        projects = queries.all_projects(session)
        organisations = list(session.scalars(select(Organisation)))
        assert len(projects) >= 400 and len(organisations) >= 60
        assert {p.status for p in projects} == set(ProjectStatus)
        assert all(p.processing_ended_on for p in projects if p.status.closed
                   and p.status != "avis-defavorable")
        assert any(p.results for p in projects if p.status == "termine")
        assert not any(p.results for p in projects if p.status != "termine")
        assert any(rules.results_status(p, TODAY).overdue for p in projects)
        assert any(rules.results_status(p, TODAY).late for p in projects)
        assert any(not p.objections_applied for p in projects)
        # The real names of the SNDS parts and catalogue databases, both kinds used.
        used = {s.code: s for p in projects for s in p.sources}
        assert {c: s.name for c, s in used.items()} == {
            c: spec["name"] for c, spec in CATALOGUE.items() if c in used}
        assert {s.kind for s in used.values()} == {"base-principale", "catalogue"}
        for project in projects:
            _check_realism(project)
        for organisation in organisations:
            assert kind_from_name(organisation.name) == organisation.kind, organisation.name
            located = [p for p in CITIES + PLACES if organisation.name.endswith(" " + de(p))]
            if located:
                assert organisation.city == located[0], organisation.name
        again = runner.invoke(args=["registry", "demo", "--if-empty"])
        assert "déjà" in again.output


def _check_realism(project) -> None:
    reference = project.reference
    filed = project.status_events[0].happened_on
    # Processing place: the platform has no detail; elsewhere says where.
    assert (project.processing_location == "ailleurs") == bool(
        project.processing_location_detail), reference
    # No anachronism: each database only from the year it was available; COVID-19 from 2020.
    assert all(s.since_year <= filed.year for s in project.sources), reference
    if "covid-19" in project.themes:
        assert filed.year >= 2020 and project.period_start_year >= 2020, reference
    # Reference methodologies: a declaration of conformity, no CNIL authorisation number.
    authorised = [e for e in project.status_events if e.status == "autorise"]
    assert project.legal_basis != "mr-004", reference  # gives no access to the SNDS alone
    if project.legal_basis == "autorisation-cnil":
        assert all(e.decision_number.startswith("DR-") for e in authorised), reference
    else:
        assert not project.cnil_decision, reference
        assert all(not e.decision_number and e.note for e in authorised), reference
    # French: elision and contractions.
    texts = (project.title, project.summary, project.objective, project.sponsor.name,
             *(r.title for r in project.results), *(r.summary for r in project.results))
    for text in texts:
        assert not re.search(r"\b(de|à) (le|les) |\bde [AEIOUYÂÉÈÊÎÔÛaeiouyéèêâîôû]", text), text
    # Titles that make sense for their subject.
    assert not re.search(r"traitements (des|du|de la|de l') ?(pesticides|vagues|pollution|"
                         r"bruit|dépistage|vaccination|chutes|gestes)|complications du "
                         r"dépistage|Prédire les passages aux urgences liés aux pesticides",
                         project.title), project.title
    # History in order: a version shows nothing from after its date.
    revisions = project.revisions
    assert [r.created_at for r in revisions] == sorted(r.created_at for r in revisions)
    for revision in revisions:
        day = revision.created_at.date().isoformat()
        assert all(e["date"] <= day for e in revision.snapshot["status_events"]), reference
        assert all(r["published_on"] <= day for r in revision.snapshot["results"]), reference
    # No value from the clock: every moment comes from the demo's own dates.
    moments = [project.created_at, project.updated_at, *(r.created_at for r in revisions),
               *(r.created_at for r in project.results)]
    assert max(moments).date() <= TODAY, reference
    for result in project.results:
        assert result.created_at.date() == result.published_on, reference


def test_demo_is_deterministic_for_a_seed():
    import random

    def plan(seed):
        rng = random.Random(seed)
        organisations = build_organisations(rng, 72)
        projects = build_projects(rng, organisations, 420)
        return organisations, [(p.data, versions(p)) for p in projects]

    assert plan(2026) == plan(2026)
    assert plan(2026) != plan(7)


def test_de_elides_before_a_vowel_or_a_mute_h():
    assert [de(n) for n in ("Amiens", "Angers", "Évry", "Hyères", "Haute-Combe", "Lyon",
                            "Le Havre", "Les Ulis")] == [
        "d'Amiens", "d'Angers", "d'Évry", "d'Hyères", "de Haute-Combe", "de Lyon",
        "du Havre", "des Ulis"]


def test_saving_updates_the_index(app):
    with app.app_context():
        make_project("HDH-2024-0001", title="Vaccination des adolescents")
        backend = get_search_backend(app)
        assert backend.search(SearchQuery(text="vaccination")).total == 1
        make_project("HDH-2024-0001", title="Sommeil des adolescents")
        assert backend.search(SearchQuery(text="vaccination")).total == 0
        assert backend.search(SearchQuery(text="sommeil")).total == 1


def test_search_documents_hold_only_what_the_index_reads(app):
    from registry.search import DOCUMENT_FIELDS
    from registry.search.whoosh.analysis import to_fields as _to_fields

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

    with app.app_context():
        make_project("HDH-2024-0001", status="termine", processing_ended_on="2020-01-01")
        document = Read(next(documents.iter_search_documents(db.session)))
    # Nothing frozen at index time (an "overdue" flag would go stale the next day).
    assert set(document) == DOCUMENT_FIELDS
    _to_fields(document)
    assert document.read == DOCUMENT_FIELDS


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


def test_a_search_before_the_index_is_built_creates_none(app, client, runner, caplog):
    import shutil

    with app.app_context():
        for number in range(1, 4):
            make_project(f"HDH-2024-{number:04d}")
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])  # the database is there, not the index yet
    with caplog.at_level("WARNING", logger="registry.search.whoosh"):
        html = client.get("/projets").get_data(as_text=True)
    assert "La recherche n'est pas encore disponible" in html
    assert any("flask registry reindex" in r.getMessage() for r in caplog.records)
    with app.app_context():
        assert not get_search_backend(app).exists()  # the read path made no index
    result = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert result.exit_code == 0 and "3 projets indexés" in result.output, result.output
    html = client.get("/projets").get_data(as_text=True)
    assert "3 projets" in html and "pas encore disponible" not in html


def test_reindex_if_missing_rebuilds_an_index_that_drifted(app, runner):
    with app.app_context():
        for number in range(1, 4):
            make_project(f"HDH-2024-{number:04d}")
        backend = get_search_backend(app)
        [first, *_others] = sorted(backend.ids())
        backend.remove([first])  # an index update that failed after a commit
    partial = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "contient 2 projet(s), le registre 3" in partial.output, partial.output
    assert "3 projets indexés" in partial.output
    with app.app_context():
        project = db.session.get(Project, first)
        old = next(documents.iter_search_documents(db.session, [first]))
        make_project(project.reference, title="Un titre plus récent")
        get_search_backend(app).index([old])  # the index holds the older version
    stale = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "1 projet(s) dans une version plus ancienne" in stale.output, stale.output
    with app.app_context():
        assert get_search_backend(app).search(SearchQuery(text="récent")).total == 1
    current = runner.invoke(args=["registry", "reindex", "--if-missing"])
    assert "existe déjà et correspond au registre" in current.output
