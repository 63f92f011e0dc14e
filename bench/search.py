"""Search latency (p50 and p95) of the register's two backends, Whoosh and PostgreSQL, against
SQLite FTS5 on the same synthetic French documents, measured in the same run, at 1,000, 20,000
and 100,000 projects:

* **SQLite FTS5** (the reference): a native engine over the same documents, already analysed
  by our French chain (so both match the same stems): the page ordered by ``bm25()`` with our
  field weights, the count, and one facet grouped in SQL;
* **Whoosh**, the default backend, for a *new query* (its ranking cache emptied first: what a
  worker pays for words it has not seen since the index last changed) and a *repeated query*;
* **PostgreSQL** (``SEARCH_BACKEND=postgres``), when a database is given (``BENCH_DATABASE_URL``
  or ``--postgres``): its whole search, page, facets and snippets;
* naive Whoosh (fresh searcher, ``limit=None``, one grouped facet), for the record.

Both backends count all eight facets, where FTS5 counts one. Ratios are backend ÷ FTS5: below 1,
the backend is faster; the target is ≤ 1.5 at 20,000 projects.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

from whoosh import sorting
from whoosh.query import And, Every, Or, Term

from bench.common import Table, percentile, verdict
from registry.search import SearchQuery
from registry.search.whoosh import WhooshBackend
from registry.search.whoosh.analysis import french_analyzer
from registry.search.whoosh.backend import TEXT_FIELDS

# Everyday words of the register, most frequent first (drawn with Zipf's law).
COMMON = ("patients soins santé données étude hôpital traitement parcours risque maladie "
          "enfants femmes cancer suivi prise charge médicaments population personnes âgées "
          "diabète cardiaque prévention dépistage urgences sein région inégalités coût "
          "assurance maladie qualité sécurité vaccination grossesse naissance cohorte "
          "efficacité hospitalisation médecin généraliste pharmacie chirurgie infection "
          "mortalité insuffisance chronique handicap vieillissement dépression pollution "
          "environnement travail territoire accès professionnels consommation remboursement "
          "prescription imagerie biologie analyse modèle algorithme évaluation politique "
          "publique").split()
# What a project is specifically about: each document gets one (so each is in ~1 % of them).
SPECIFIC = ("mucoviscidose drépanocytose sclérodermie myopathie hémophilie endométriose "
            "psoriasis lupus sarcoïdose fibromyalgie narcolepsie anorexie boulimie autisme "
            "schizophrénie bipolarité épilepsie migraine glaucome cataracte surdité acouphènes "
            "scoliose arthrose ostéoporose goutte lombalgie tendinite bronchiolite coqueluche "
            "rougeole varicelle tuberculose légionellose listériose salmonellose paludisme "
            "dengue chikungunya leptospirose hépatite cirrhose pancréatite appendicite "
            "diverticulite hernie lithiase néphropathie dialyse greffe transfusion anévrisme "
            "thrombose embolie arythmie tachycardie hypertension hypotension anémie "
            "leucémie lymphome myélome mélanome glioblastome neuroblastome sarcome "
            "mésothéliome carcinome adénome polypose coloscopie mammographie échographie "
            "scanner radiothérapie chimiothérapie immunothérapie antibiorésistance "
            "vaccinovigilance pharmacovigilance iatrogénie polymédication sédentarité "
            "obésité tabagisme alcoolisme addiction précarité canicule pesticides "
            "radon amiante").split()
THEMES = ["cardiologie", "oncologie", "pediatrie", "prevention", "neurologie", "diabete"]
QUERIES = [
    ("common word", SearchQuery(text="patients")),
    ("rare word", SearchQuery(text="mucoviscidose")),
    ("two words", SearchQuery(text="cancer sein")),
    ("text + facet", SearchQuery(text="soins", filters={"theme": ["oncologie"]})),
    ("facets only", SearchQuery(filters={"status": ["termine"]})),
]


def documents(count: int, seed: int = 7) -> Iterator[dict]:
    rng = random.Random(seed)
    weights = [1 / rank ** 1.1 for rank in range(1, len(COMMON) + 1)]

    def words(k: int) -> str:
        return " ".join(rng.choices(COMMON, weights=weights, k=k))

    for index in range(1, count + 1):
        specific = rng.choice(SPECIFIC)
        yield {
            "id": index, "reference": f"HDH-{2019 + index // 10000:04d}-{index % 10000:04d}",
            "slug": str(index),
            "title": f"{words(5)} {specific}".capitalize(),
            "summary": f"{words(20)} {specific} {words(20)}.",
            "objective": words(20), "public_interest": words(10),
            "sponsor_name": f"Organisme {index % 97}", "sponsor_kind": "hopital",
            "themes": [rng.choice(THEMES)], "sources": [rng.choice(["DCIR", "PMSI-MCO"])],
            "status": rng.choice(["en-cours", "termine", "autorise"]),
            "year_authorised": rng.randint(2019, 2026), "uses_ai": rng.random() < 0.4,
            "has_results": rng.random() < 0.3,
            "results_due_on": date(2025, 1, 1) if rng.random() < 0.3 else None,
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC).replace(day=1 + index % 28),
        }


# --------------------------------------------------------------------------- references

def naive_search(backend: WhooshBackend, query: SearchQuery) -> int:
    """What a first, untuned use of Whoosh does."""
    from whoosh import index as whoosh_index

    searcher = whoosh_index.open_dir(str(backend.current)).searcher()
    try:
        parts = []
        for word in query.text.split():
            for token in french_analyzer()(word):
                parts.append(Or([Term(f, token.text) for f in TEXT_FIELDS]))
        for name, values in query.filters.items():
            parts.append(Or([Term(name, v) for v in values]))
        whoosh_query = And(parts) if parts else Every()
        results = searcher.search(whoosh_query, limit=None,
                                  groupedby={"status": sorting.FieldFacet("status")})
        return len(results)
    finally:
        searcher.close()


class Fts5:
    """SQLite FTS5 over the same documents, analysed by the same French chain."""

    FIELDS = list(TEXT_FIELDS)

    def __init__(self, path: str, docs: list[dict]):
        analyzer = french_analyzer()

        def analysed(text: str) -> str:
            return " ".join(t.text for t in analyzer(text or ""))

        self.db = sqlite3.connect(path)
        self.db.execute(f"CREATE VIRTUAL TABLE docs USING fts5({', '.join(self.FIELDS)}, "
                        "tokenize='unicode61')")
        self.db.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, status TEXT, theme TEXT, "
                        "updated TEXT)")
        self.db.execute("CREATE INDEX meta_status ON meta (status, updated)")
        columns, marks = ", ".join(self.FIELDS), ", ".join("?" * len(self.FIELDS))
        insert = f"INSERT INTO docs (rowid, {columns}) VALUES (?, {marks})"  # noqa: S608
        self.db.executemany(
            insert,
            ((d["id"], analysed(d["title"]), analysed(d["summary"]),
              analysed(d["objective"]), analysed(d["public_interest"]),
              analysed(d["sponsor_name"]), "") for d in docs))
        self.db.executemany("INSERT INTO meta VALUES (?, ?, ?, ?)",
                            ((d["id"], d["status"], d["themes"][0], d["updated_at"].isoformat())
                             for d in docs))
        self.db.commit()
        self.weights = ", ".join(str(w) for w in TEXT_FIELDS.values())
        self.analyzer = analyzer

    def search(self, query: SearchQuery) -> int:
        tokens = [t.text for t in self.analyzer(query.text)]
        where, params = [], []
        if tokens:
            where.append("docs MATCH ?")
            params.append(" AND ".join(f'"{t}"' for t in tokens))
        for name, values in query.filters.items():
            column = {"status": "m.status", "theme": "m.theme"}[name]
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        clause = " AND ".join(where) or "1"
        if tokens:
            source = "docs JOIN meta m ON m.id = docs.rowid"
            order = f"bm25(docs, {self.weights})"
        else:
            source, order = "meta m", "m.updated DESC"
        page = self.db.execute(f"SELECT m.id FROM {source} WHERE {clause} "  # noqa: S608
                               f"ORDER BY {order} LIMIT 20", params).fetchall()
        total = self.db.execute(f"SELECT count(*) FROM {source} WHERE {clause}",  # noqa: S608
                                params).fetchone()[0]
        self.db.execute(f"SELECT m.status, count(*) FROM {source} WHERE {clause} "  # noqa: S608
                        "GROUP BY m.status", params).fetchall()
        return total if page is not None else 0


# --------------------------------------------------------------------------- measuring

def timed(function: Callable[[], object], repeats: int,
          before: Callable[[], None] | None = None) -> list[float]:
    samples = []
    for _ in range(repeats):
        if before:
            before()
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


TARGET = 1.5  # p95 ≤ 1.5 × FTS5 at 20,000 projects
TARGET_SIZE = 20_000


def _postgres_backend(url: str, docs: list[dict]):
    """The PostgreSQL backend on a fresh, migrated schema of ``url``, holding ``docs``."""
    from alembic import command
    from sqlalchemy import text

    from core.database import make_engine
    from core.migrations import alembic_config
    from registry.search.postgres import PostgresBackend

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    command.upgrade(alembic_config(url), "head")
    backend = PostgresBackend(engine)
    backend.rebuild(iter(docs))
    return backend, engine


def run(sizes: tuple[int, ...] = (1_000, 20_000, 100_000), repeats: int = 10,
        postgres_url: str | None = None) -> list[Table]:
    tables = []
    for size in sizes:
        tables.append(_run_size(size, repeats, postgres_url))
    return tables


def _run_size(size: int, repeats: int, postgres_url: str | None) -> Table:
    docs = list(documents(size))
    table = Table(
        f"Search latency at {size:,} projects (ms, p50 / p95; ratio = p95 ÷ FTS5's p95)",
        "SQLite FTS5 over the same documents, analysed by the same French chain, measured in "
        "the same run",
        ["query", "FTS5", "Whoosh new", "ratio", "Whoosh repeated", "ratio",
         "PostgreSQL", "ratio", "naive Whoosh"])
    with tempfile.TemporaryDirectory() as directory:
        backend = WhooshBackend(f"{directory}/whoosh")
        started = time.perf_counter()
        backend.rebuild(iter(docs))
        built = time.perf_counter() - started
        fts = Fts5(f"{directory}/fts.sqlite3", docs)
        postgres = engine = None
        if postgres_url:
            started = time.perf_counter()
            postgres, engine = _postgres_backend(postgres_url, docs)
            table.notes.append(f"PostgreSQL index built in {time.perf_counter() - started:.1f}"
                               " s.")
        table.notes.append(f"Whoosh index built in {built:.1f} s.")

        def forget_rankings() -> None:
            for cached in backend._generations.values():
                cached.rankings.clear()

        worst: list[float] = []
        for label, query in QUERIES:
            backend.search(query)  # as in a running worker: the generation is loaded
            if postgres is not None:
                postgres.search(query)
            fresh = timed(lambda q=query: backend.search(q), repeats, forget_rankings)
            repeated = timed(lambda q=query: backend.search(q), repeats)
            naive = timed(lambda q=query: naive_search(backend, q), repeats)
            native = timed(lambda q=query: fts.search(q), repeats)
            reference = percentile(native, 95)
            row = [label, _ms(native), _ms(fresh), f"{percentile(fresh, 95) / reference:.2f}",
                   _ms(repeated), f"{percentile(repeated, 95) / reference:.2f}"]
            worst.append(percentile(fresh, 95) / reference)
            if postgres is not None:
                pg = timed(lambda q=query: postgres.search(q), repeats)
                row += [_ms(pg), f"{percentile(pg, 95) / reference:.2f}"]
                worst.append(percentile(pg, 95) / reference)
            else:
                row += ["—", "—"]
            row.append(_ms(naive))
            table.rows.append(row)
        fts.db.close()
        if engine is not None:
            engine.dispose()
    if size == TARGET_SIZE:
        table.notes.append("target at 20,000: every backend's p95 ≤ 1.5 × FTS5's; worst ratio "
                           f"{max(worst):.2f}: {verdict(max(worst), TARGET, False)}")
    if postgres_url is None:
        table.notes.append("PostgreSQL not measured: no BENCH_DATABASE_URL.")
    return table


def _ms(samples: list[float]) -> str:
    return f"{percentile(samples, 50) * 1000:.1f} / {percentile(samples, 95) * 1000:.1f}"
