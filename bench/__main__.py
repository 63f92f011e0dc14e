"""``python -m bench [--sizes 2000,20000]``: search latency of the tuned Whoosh backend against a
naive use of Whoosh (fresh searcher per query, no result limit, filters AND-ed into the query),
on the same synthetic French documents, measured in the same run."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime

from whoosh import sorting
from whoosh.query import And, Every, Or, Term

from registry.search import TEXT_FIELDS, SearchQuery, WhooshBackend, french_analyzer

WORDS = ("patients hôpital cancer sein diabète enfants asthme cardiaque insuffisance soins "
         "parcours médicament sécurité prévention dépistage pollution vieillissement chutes "
         "dépression urgences vaccination grossesse naissance maladie rare cohorte étude "
         "traitement efficacité risque région inégalités coût assurance données").split()
THEMES = ["cardiologie", "oncologie", "pediatrie", "prevention", "neurologie", "diabete"]
QUERIES = [
    ("common word", SearchQuery(text="patients")),
    ("rare word", SearchQuery(text="pollution")),
    ("two words", SearchQuery(text="cancer sein")),
    ("text + facet", SearchQuery(text="soins", filters={"theme": ["oncologie"]})),
    ("facets only", SearchQuery(filters={"status": ["termine"]})),
]


def documents(count: int, seed: int = 7):
    rng = random.Random(seed)
    for index in range(1, count + 1):
        yield {
            "id": index, "reference": f"HDH-2024-{index % 10000:04d}", "slug": str(index),
            "title": " ".join(rng.choices(WORDS, k=6)).capitalize(),
            "summary": " ".join(rng.choices(WORDS, k=40)) + ".",
            "objective": " ".join(rng.choices(WORDS, k=20)), "public_interest": "",
            "sponsor_name": f"Organisme {index % 97}", "sponsor_kind": "hopital",
            "themes": [rng.choice(THEMES)], "sources": ["DCIR"],
            "status": rng.choice(["en-cours", "termine", "autorise"]),
            "year_authorised": rng.randint(2019, 2026), "uses_ai": rng.random() < 0.4,
            "has_results": rng.random() < 0.3, "results_overdue": False,
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        }


def naive_search(backend: WhooshBackend, query: SearchQuery) -> int:
    """The reference: what a first, untuned use of Whoosh does."""
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


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(size: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        backend = WhooshBackend(directory)
        started = time.perf_counter()
        backend.rebuild(documents(size))
        print(f"\n{size:,} documents (index built in {time.perf_counter() - started:.1f} s)")
        print(f"{'query':<14} {'tuned p50':>10} {'tuned p95':>10} {'naive p95':>10} "
              f"{'naive/tuned (p95)':>18}")
        for label, query in QUERIES:
            backend.search(query)  # warm the cached searcher, as in a running worker
            tuned, naive = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                backend.search(query)
                tuned.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                naive_search(backend, query)
                naive.append(time.perf_counter() - t0)
            ratio = percentile(naive, 95) / percentile(tuned, 95)
            print(f"{label:<14} {percentile(tuned, 50) * 1000:>8.1f}ms "
                  f"{percentile(tuned, 95) * 1000:>8.1f}ms {percentile(naive, 95) * 1000:>8.1f}ms "
                  f"{ratio:>17.2f}×")
        print("(1.00× is parity; above 1 the tuned backend is faster than the naive reference, "
              "which counts only one facet where the tuned one counts eight)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.repeats)


if __name__ == "__main__":
    main()
