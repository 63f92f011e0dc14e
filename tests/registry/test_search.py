"""Search, against the abstract API, on every backend of ``registry.search.BACKENDS``: each test
taking ``backend`` (or ``empty_backend``) runs on Whoosh and on PostgreSQL, and both must give
the same answers. The few tests of one backend's internals say so."""

from __future__ import annotations

import multiprocessing
import os
import threading
from datetime import UTC, date, datetime

import pytest

from registry.search import BACKENDS, SearchQuery, check_config
from registry.search.synonyms import GROUPS
from registry.search.whoosh import WhooshBackend
from registry.search.whoosh.postings import postings as _postings
from tests.registry.search_backends import new_backend


def doc(id: int, title: str, summary: str = "", **extra) -> dict:
    base = {"id": id, "reference": f"HDH-2024-{id:04d}", "title": title,
            "summary": summary, "objective": "", "public_interest": "",
            "sponsor_name": "Organisme", "sponsor_kind": "hopital", "keywords": "",
            "sponsor_slug": "organisme",
            "city": "Lyon", "themes": ["cardiologie"], "sources": ["DCIR"], "status": "en-cours",
            "year_authorised": 2024, "uses_ai": False, "has_results": False,
            "results_due_on": None,
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC).replace(day=1 + id % 28)}
    base.update(extra)
    return base


CORPUS = [
    doc(1, "Les hôpitaux et l'insuffisance cardiaque", "Suivi à l'Hôpital après un infarctus."),
    doc(2, "Cancer du sein chez les femmes jeunes", "Les cancers du sein avant 40 ans.",
        themes=["oncologie"], sources=["ESME", "PMSI-MCO"], uses_ai=True, status="termine",
        has_results=True),
    doc(3, "Asthme des enfants", "Les enfants asthmatiques et la pollution.",
        themes=["pediatrie", "sante-environnement"], status="termine",
        results_due_on=date(2025, 3, 1)),
    doc(4, "Données de santé et cardiologie", "Les donnees du SNDS en cardiologie.",
        year_authorised=2021),
    doc(5, "Titre <script>alert(1)</script>", "Résumé avec <b>balises</b> et hôpital."),
]


@pytest.fixture(params=sorted(BACKENDS))
def empty_backend(request, tmp_path):
    """Each backend, with no index yet. PostgreSQL's is skipped with the reason where no
    server is reachable (a laptop), and fails in CI."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with new_backend(request.param, tmp_path, url) as engine:
        yield engine


@pytest.fixture
def backend(empty_backend):
    empty_backend.index(CORPUS)
    return empty_backend


def ids(backend, **kwargs) -> list[int]:
    return backend.search(SearchQuery(**kwargs)).ids


@pytest.mark.parametrize("variant", ["hopital", "hôpitaux", "Hôpital", "HÔPITAUX", "hopitaux"])
def test_accents_case_and_plurals_meet(backend, variant):
    assert sorted(ids(backend, text=variant)) == [1, 5]


@pytest.mark.parametrize(("a", "b"), [("enfant", "enfants"), ("cancer", "cancers"),
                                      ("données", "donnees")])
def test_same_results_for_word_forms(backend, a, b):
    assert ids(backend, text=a) == ids(backend, text=b) != []


def test_title_is_boosted(backend):
    # 11 has the word once, in its title; 12 has it five times, in its summary only.
    backend.index([
        doc(11, "Cardiologie de l'enfant", "Une étude des enfants suivis à l'hôpital."),
        doc(12, "Parcours de soins", "Cardiologie, cardiologie interventionnelle : la "
            "cardiologie des adultes et la cardiologie des enfants, en cardiologie."),
    ])
    ranked = ids(backend, text="cardiologie")
    assert ranked.index(11) < ranked.index(12)


def test_reference_finds_the_project_first(backend):
    # 13's summary cites 3's reference twice; 3 only carries it as its reference.
    backend.index([doc(13, "Suite d'un projet", "Ce projet prolonge HDH-2024-0003. Les "
                       "résultats de HDH-2024-0003 sont repris.")])
    ranked = ids(backend, text="HDH-2024-0003")
    assert ranked[0] == 3 and 13 in ranked


def test_overdue_is_judged_on_the_day_of_the_search(empty_backend):
    engine = empty_backend
    engine.index([doc(21, "Sans résultat", results_due_on=date(2026, 3, 1)),
                  doc(22, "Avec résultat", results_due_on=date(2026, 3, 1), has_results=True),
                  doc(23, "Pas encore dû", results_due_on=date(2027, 1, 1)),
                  doc(24, "Sans date")])
    on_the_day = engine.search(SearchQuery(filters={"overdue": ["oui"]},
                                           today=date(2026, 3, 1)))
    assert on_the_day.ids == [] and "oui" not in dict(on_the_day.facets["overdue"])
    # the next day, with no write to the index in between
    next_day = engine.search(SearchQuery(filters={"overdue": ["oui"]}, today=date(2026, 3, 2)))
    assert next_day.ids == [21]
    assert dict(next_day.facets["overdue"]) == {"oui": 1, "non": 3}
    everything = engine.search(SearchQuery(today=date(2027, 1, 2)))
    assert dict(everything.facets["overdue"]) == {"oui": 2, "non": 2}
    assert engine.matching_ids(SearchQuery(filters={"overdue": ["oui"]}, sort="reference",
                                           today=date(2027, 1, 2))) == [23, 21]


def test_matching_ids_returns_every_match_in_order(backend):
    backend.index([doc(i, f"Projet hôpital {i}") for i in range(100, 160)])
    query = SearchQuery(text="hôpital", sort="reference", per_page=5)
    every = backend.matching_ids(query)
    assert len(every) == 62 and every == sorted(every, reverse=True)
    pages = [backend.search(SearchQuery(text="hôpital", sort="reference", per_page=5,
                                        page=n)).ids for n in range(1, 14)]
    assert [i for page in pages for i in page] == every
    relevance = backend.matching_ids(SearchQuery(text="hôpital"))
    assert relevance[:20] == backend.search(SearchQuery(text="hôpital")).ids


def test_highlights_mark_matches_and_escape_text(backend):
    result = backend.search(SearchQuery(text="hôpital"))
    snippet = result.highlights[5]
    assert "<mark" in snippet and "<b>" not in snippet and "&lt;b&gt;" in snippet
    title_hit = backend.search(SearchQuery(text="alert"))
    assert all("<script" not in s for s in title_hit.highlights.values())


def test_facets_count_and_combine_with_filters(backend):
    result = backend.search(SearchQuery())
    assert dict(result.facets["status"]) == {"en-cours": 3, "termine": 2}
    assert dict(result.facets["theme"])["cardiologie"] == 3
    filtered = backend.search(SearchQuery(filters={"status": ["termine"]}))
    assert filtered.total == 2
    # the selected facet still shows its other values (disjunctive), others are narrowed
    assert dict(filtered.facets["status"]) == {"en-cours": 3, "termine": 2}
    assert dict(filtered.facets["theme"]) == {"oncologie": 1, "pediatrie": 1,
                                              "sante-environnement": 1}
    both = backend.search(SearchQuery(filters={"status": ["termine"], "ai": ["oui"]}))
    assert both.ids == [2]
    assert ids(backend, filters={"overdue": ["oui"]}) == [3]
    assert sorted(ids(backend, filters={"theme": ["oncologie", "pediatrie"]})) == [2, 3]


def test_a_named_sponsor_filters_and_narrows_every_facet(backend):
    backend.index([doc(6, "Projet du CHU", sponsor_slug="chu-de-valmont", status="termine"),
                   doc(7, "Autre projet du CHU", sponsor_slug="chu-de-valmont")])
    result = backend.search(SearchQuery(filters={"sponsor": ["chu-de-valmont"]}))
    assert (sorted(result.ids), result.total) == ([6, 7], 2)
    assert dict(result.facets["status"]) == {"en-cours": 1, "termine": 1}
    assert "sponsor" not in result.facets  # a filter, not a counted facet
    both = SearchQuery(text="projet", filters={"sponsor": ["chu-de-valmont", "organisme"],
                                               "status": ["termine"]})
    assert ids(backend, **vars(both)) == [6]
    assert dict(backend.search(both).facets["status"]) == {"en-cours": 1, "termine": 1}
    assert ids(backend, filters={"sponsor": ["inconnu"]}) == []
    assert backend.matching_ids(SearchQuery(filters={"sponsor": ["chu-de-valmont"]},
                                            sort="reference")) == [7, 6]


def test_sorting(backend):
    assert ids(backend, sort="title") == [3, 2, 4, 1, 5]
    assert ids(backend, sort="reference") == [5, 4, 3, 2, 1]
    assert ids(backend, sort="recent")[0] == 5


def test_pagination_edges(backend):
    page = backend.search(SearchQuery(per_page=2, page=3))
    assert (page.total, page.pages, len(page.ids)) == (5, 3, 1)
    beyond = backend.search(SearchQuery(per_page=2, page=99))
    assert beyond.ids == [] and beyond.total == 5
    assert len(backend.search(SearchQuery(per_page=10_000)).ids) == 5
    assert backend.search(SearchQuery(page=-3)).page == 1


@pytest.mark.parametrize(("text", "expected"), [
    ('"', []), ("(", []), (")", []), ("AND", []), ("OR NOT", []), ("*", []), ("~", []),
    ("^2", []), ("title:x", []), ('"unbalanced', []), ("a" * 10_000, []),
    ("\x00\x01\x02", [1, 2, 3, 4, 5]),  # nothing printable: an empty search, all projects
    ("💡 hôpital", [1, 5]), ("le la les", []), ("-", []),
    ("[1 TO 5]", []), ("{}", []),
    ("title:cancer", []),  # the words "title" and "cancer": no project has both
    ("(enfants)", [3])])
def test_hostile_queries_are_words_not_syntax(backend, text, expected):
    """Query syntax is never parsed: symbols match nothing, words match as words, an unknown
    filter or value matches nothing instead of failing."""
    assert sorted(ids(backend, text=text, per_page=100)) == expected
    filtered = backend.search(SearchQuery(text=text, filters={"status": ["nope"], "x": ["y"]}))
    assert (filtered.total, filtered.ids) == (0, [])


def test_check_config_names_the_problems(tmp_path):
    assert check_config({"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": str(tmp_path)}) == []
    assert check_config({"SEARCH_INDEX_DIR": str(tmp_path / "new" / "dir")}) == []
    [unknown] = check_config({"SEARCH_BACKEND": "elastic", "SEARCH_INDEX_DIR": str(tmp_path)})
    assert "'elastic'" in unknown and "whoosh" in unknown
    assert check_config({"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": ""})
    assert "relative" in check_config({"SEARCH_INDEX_DIR": "instance/search"})[0]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "not a directory" in check_config({"SEARCH_INDEX_DIR": str(a_file)})[0]
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        problems = check_config({"SEARCH_INDEX_DIR": str(locked / "search")})
        if os.geteuid() != 0:  # root writes anywhere
            assert "not writable" in problems[0]
    finally:
        locked.chmod(0o700)


def test_the_readme_names_every_backend():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `SEARCH_BACKEND` |")]
    described = row.split("|")[3]
    assert all(f"`{name}`" in described for name in BACKENDS), row


def test_an_index_with_an_older_schema_is_not_taken_for_a_current_one(tmp_path):
    """Whoosh only (its files and symlink); PostgreSQL's own version of this is in
    test_search_postgres.py."""
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, Schema

    engine = WhooshBackend(tmp_path / "index")
    engine.index([doc(1, "Premier")])
    assert engine.exists()
    old = tmp_path / "index" / "index-old"
    old.mkdir()
    whoosh_index.create_in(str(old), Schema(key=ID(unique=True, stored=True)))
    engine._swap(old)
    assert not engine.exists()  # so `flask registry reindex --if-missing` rebuilds it


def test_block_postings_agree_with_whoosh_matchers(tmp_path):
    """The fast path that reads posting blocks whole gives what Whoosh's matchers give,
    over several blocks and segments, with a deletion. Whoosh only: it checks a reader of
    Whoosh's files."""
    engine = WhooshBackend(tmp_path / "index")
    engine.rebuild([doc(i, f"Projet {i} à l'hôpital", "hôpital " * (i % 3 + 1))
                    for i in range(1, 2500)])
    engine.index([doc(5000, "Projet hôpital")])
    engine.remove([7])
    leaves = engine._searcher().reader().leaf_readers()
    assert len(leaves) == 2
    for leaf, _offset in leaves:
        for field in ("title", "summary"):
            ids, weights = _postings(leaf, field, "hopital")
            expected = (list(leaf.postings(field, "hopital").items_as("weight"))
                        if (field, "hopital") in leaf else [])
            assert list(zip(ids, weights, strict=True)) == expected
    assert len(_postings(leaves[0][0], "summary", "hopital")[0]) > 2048  # three blocks
    assert len(engine.matching_ids(SearchQuery(text="hopital"))) == 2499


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.members[0])
def test_every_member_of_a_synonym_group_finds_every_other(empty_backend, group):
    """One project per way of saying it (and, for a flagged group, one that only has the
    flag): each way finds them all, and nothing else."""
    saying = [doc(100 + i, f"Étude {i}", f"Une étude sur {member} en France.")
              for i, member in enumerate(group.members)]
    flagged = [doc(99, "Étude sans mot", "Rien dans le texte.", uses_ai=True)] \
        if group.flag == ("ai", "oui") else []
    empty_backend.index([*saying, *flagged, doc(1, "Autre sujet", "Une étude en France.")])
    expected = {d["id"] for d in saying + flagged}
    for member in group.members:
        assert set(empty_backend.matching_ids(SearchQuery(text=member))) == expected, member


def test_a_reference_without_its_prefix(backend):
    assert ids(backend, text="2024-0004")[0] == 4
    assert ids(backend, text="hdh-2024-0004")[0] == 4
    assert ids(backend, text="2024-9999") == []


def test_suggestion_for_a_misspelling(backend):
    assert backend.search(SearchQuery(text="cardiolgie")).suggestion == "cardiologie"
    assert backend.search(SearchQuery(text="cardiologie")).suggestion is None


def test_index_stays_consistent_after_updates_removals_and_rebuild(backend):
    backend.index([doc(6, "Nouveau projet"), doc(1, "Titre changé")])
    backend.remove([2])
    assert backend.ids() == {1, 3, 4, 5, 6}
    assert ids(backend, text="changé") == [1]
    assert ids(backend, text="insuffisance") == []
    backend.rebuild([doc(i, f"Projet {i}") for i in range(10, 15)])
    assert backend.ids() == {10, 11, 12, 13, 14}
    assert backend.count() == 5


def test_rebuild_does_not_interrupt_searches(backend):
    failures: list[BaseException] = []
    empty = 0
    stop = threading.Event()

    def searcher():
        nonlocal empty
        while not stop.is_set():
            try:
                if not backend.search(SearchQuery(text="projet")).ids:
                    empty += 1
            except BaseException as exc:
                failures.append(exc)

    backend.rebuild([doc(i, f"Projet {i}") for i in range(1, 200)])
    thread = threading.Thread(target=searcher)
    thread.start()
    for _ in range(3):
        backend.rebuild([doc(i, f"Projet {i}") for i in range(1, 200)])
    stop.set()
    thread.join()
    assert failures == [] and empty == 0


def _write_many(kind: str, location: str, start: int) -> None:
    if kind == "whoosh":
        engine = WhooshBackend(location)
    else:
        from core.database import make_engine
        from registry.search.postgres import PostgresBackend

        engine = PostgresBackend(make_engine(location))
    for i in range(start, start + 15):
        engine.index([doc(i, f"Projet {i}")])


def test_writers_in_two_processes_both_land(empty_backend, request, tmp_path):
    """Whoosh: a file lock makes the second writer wait; PostgreSQL: transactions."""
    kind = "whoosh" if isinstance(empty_backend, WhooshBackend) else "postgres"
    location = (str(empty_backend.root) if kind == "whoosh"
                else request.getfixturevalue("postgres_url"))
    empty_backend.index([doc(1, "Premier")])
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_many, args=(kind, location, start))
                 for start in (100, 200)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0]
    assert empty_backend.ids() == {1, *range(100, 115), *range(200, 215)}


def test_a_reused_searcher_sees_updates_and_deletions(backend):
    assert ids(backend, text="asthme") == [3]  # warms the cached searcher
    backend.index([doc(3, "Allergies des enfants")])
    assert ids(backend, text="asthme") == []
    assert ids(backend, text="allergies") == [3]
    backend.remove([3])
    assert ids(backend, text="allergies") == []


def test_reads_without_an_index_answer_nothing_and_create_nothing(empty_backend, tmp_path):
    engine = empty_backend
    result = engine.search(SearchQuery(text="hôpital"))
    assert (result.ids, result.total, result.ready) == ([], 0, False)
    assert engine.matching_ids(SearchQuery()) == [] and engine.count() == 0
    assert engine.ids() == set() and not engine.exists()
    if isinstance(engine, WhooshBackend):
        assert not (tmp_path / "index" / "current").exists()
    engine.index([doc(1, "Premier")])
    assert engine.search(SearchQuery(text="premier")).ready and engine.exists()
