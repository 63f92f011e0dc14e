"""``python -m bench [--only pages,search,filings,exports] [--quick] [--write FILE]``

Every benchmark prints a table of ratios against a reference measured in the same run, on the
same machine; ``--write`` puts them in a Markdown file (``make bench`` writes
docs/performance.md), after the machine's description and the date.

* ``pages``: page throughput under gunicorn against a bare WSGI app serving the same bytes;
* ``search``: search latency of Whoosh and PostgreSQL against SQLite FTS5;
* ``filings``: objection filings per second through HTTP against a bare insert loop;
* ``figures``: the statistics page with 100,000 projects and 3.4 million objections;
* ``exports``: exclusion exports and the cohort check (when the exclusion feed is present).

PostgreSQL is measured when ``BENCH_DATABASE_URL`` names a database the benchmarks may empty.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from pathlib import Path

from bench.common import Table, machine

ALL = ("pages", "search", "filings", "figures", "exports")
INTRO = """# Performance

Written by `make bench` (`python -m bench --write docs/performance.md`): every figure below comes
from that run. Each table compares the site with a reference measured in the same run on the same
machine, as a ratio; where a target is missed, the table says so and [the notes](#why-and-what-next)
say why and what would close it.

Machine: {machine}. Run took {minutes:.0f} min.
"""


def _run(name: str, quick: bool, postgres_url: str | None) -> list[Table]:
    if name == "pages":
        from bench import pages
        return pages.run(rounds=1 if quick else 3, seconds=1.0 if quick else 2.0)
    if name == "search":
        from bench import search
        sizes = (1_000, 20_000) if quick else (1_000, 20_000, 100_000)
        return search.run(sizes, repeats=5 if quick else 10, postgres_url=postgres_url)
    if name == "filings":
        from bench import filings
        return filings.run(rounds=1 if quick else 3, seconds=3.0 if quick else 5.0,
                           postgres_url=postgres_url)
    if name == "figures":
        from bench import figures
        return (figures.run(20_000, 340_000, repeats=2) if quick else figures.run())
    try:
        exports = importlib.import_module("bench.exports")
    except ModuleNotFoundError:
        return [Table("Exclusion exports", "—", ["benchmark"], [["not available yet"]])]
    return exports.run(quick=quick, postgres_url=postgres_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(ALL),
                        help="comma-separated: " + ", ".join(ALL))
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds")
    parser.add_argument("--write", type=Path, help="write the tables to this Markdown file")
    args = parser.parse_args()
    postgres_url = os.environ.get("BENCH_DATABASE_URL") or None
    started = time.perf_counter()
    described = machine()
    print(described)
    tables: list[Table] = []
    for name in args.only.split(","):
        name = name.strip()
        if name not in ALL:
            parser.error(f"unknown benchmark {name!r}")
        for table in _run(name, args.quick, postgres_url):
            print(table.text(), flush=True)
            tables.append(table)
    if args.write:
        notes = args.write.read_text("utf-8").split("\n## Why and what next", 1)
        analysis = "\n## Why and what next" + notes[1] if len(notes) == 2 else ""
        body = INTRO.format(machine=described,
                            minutes=(time.perf_counter() - started) / 60)
        body += "\n## Figures\n\n" + "\n".join(table.markdown() for table in tables)
        args.write.write_text(body + analysis, "utf-8")
        print(f"\nwritten to {args.write}")


if __name__ == "__main__":
    main()
