"""Exclusion lists at national scale, on PostgreSQL: a full export of 1 million and 5 million
objections in force against PostgreSQL's own ``COPY … TO STDOUT`` of the same rows (time and
peak memory of the process), and the cohort check of 1 million pseudonyms through HTTP (a real
gunicorn) against a bare Python set lookup of the same pseudonyms.

Targets (issue 8): a full export within 2× COPY's time, in at most 200 MB of peak resident
memory (the whole process: Python, the application, its buffers). Each figure is measured in
its own process (``python -m bench.exports measure …``), so peak memory is that work's alone.

The objections are written straight into the database (``generate_series``: pseudonyms are
SHA-256 digests, one in ten for a project), as a national platform would hold them; the first
export builds the published set from them (a rebase), then the full export is read back from
the set as the platform's ``GET /exclusions/full`` and ``flask objection export --full`` do.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

from bench.common import PYTHON, ROOT, Table, flask, gunicorn, site_environment, verdict

TIME_TARGET = 2.0  # × COPY
MEMORY_TARGET_MB = 200
COHORT = 1_000_000


def _engine(url: str):
    from core.database import make_engine

    return make_engine(url)


def _reset(url: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _prepare(url: str, count: int, instance: Path) -> str:
    """A migrated database with a small demo register and ``count`` objections in force
    (``received``), one in ten for one of its projects, whose reference is returned."""
    _reset(url)
    flask(instance, "db", "upgrade", DATABASE_URL=url)
    flask(instance, "registry", "demo", "--count", "5", DATABASE_URL=url)
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            project = connection.execute(text(
                "SELECT reference FROM projects WHERE objections_applied "
                "ORDER BY reference LIMIT 1")).scalar_one()
            connection.execute(text("""
                INSERT INTO objections (reference, followup_hash, submission_hash, pseudonym,
                    pseudonym_key_id, scope, project_reference, filer, status, channel, lang,
                    created_at, effective_from, answer_due_on, status_changed_at,
                    rejection_reason, withdrawal_review, email_sealed, month_filed, age_band,
                    sex, failed_lookups)
                SELECT 'B' || i, 'x', encode(sha256(('s' || i)::bytea), 'hex'),
                    encode(sha256(('p' || i)::bytea), 'hex'), 'dev1',
                    CASE WHEN i % 10 = 0 THEN 'project' ELSE 'general' END,
                    CASE WHEN i % 10 = 0 THEN :project END, 'self', 'received', 'web', 'fr',
                    now() - (i % 700) * interval '1 day', now() - (i % 700) * interval '1 day',
                    current_date, now(), '', false, ''::bytea, '2026-01', '30-44', 'F', 0
                FROM generate_series(1, :count) AS i"""), {"count": count, "project": project})
    finally:
        engine.dispose()
    return project


def _measured(*args: str, environ: dict[str, str]) -> dict:
    """Run ``python -m bench.exports measure …`` and return its figures, with the peak
    resident memory of that process alone (``wait4``)."""
    process = subprocess.Popen([PYTHON, "-m", "bench.exports", "measure", *args], cwd=ROOT,
                               env=environ, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"bench.exports measure {' '.join(args)} failed:\n{output}")
    figures = json.loads(output.strip().splitlines()[-1])
    # The child's own high-water mark (VmHWM, read by the child itself): ``wait4``'s
    # ru_maxrss also counts the parent's memory copied at fork, which Linux records into the
    # child's maximum at exec (it read 1.5 GB for every child once this process held the
    # generated rows).
    figures["peak_mb"] = figures.pop("vm_hwm_kb", usage.ru_maxrss) / 1024
    return figures


def _vm_hwm_kb() -> int:
    """This process's peak resident memory since its exec, in kB (Linux's VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(what: str, url: str, out: Path) -> None:
    """In a process of its own: one piece of work, its wall time printed as JSON."""
    if what == "copy":
        import psycopg

        started = time.perf_counter()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as raw, \
                raw.cursor() as cursor, (out / "copy.txt").open("wb") as handle, \
                cursor.copy("COPY (SELECT pseudonym, scope, effective_on "
                            "FROM exclusion_entries WHERE removed_in IS NULL) TO STDOUT") as copy:
            for chunk in copy:
                handle.write(chunk)
        print(json.dumps({"seconds": time.perf_counter() - started,
                          "vm_hwm_kb": _vm_hwm_kb()}))
        return
    from core.extensions import db
    from website.app import create_app

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        from core.clock import utcnow
        from objection.exclusions import delivery, exports, state

        started = time.perf_counter()
        if what == "first":  # build the published set, write full export 1
            served = delivery.bring_up_to_date(db.session, state.lock(db.session),
                                               now=utcnow(), actor="system:bench")
        else:  # the full export again, read back from the set (what the platform fetches)
            state.lock(db.session)
            served = delivery.Served(exports.find(db.session, 1, "full"))
        db.session.commit()
        assert served is not None
        path = exports.write_files(db.session, served.export, out, served.spooled)
        served.close()
        print(json.dumps({"seconds": time.perf_counter() - started,
                          "lines": served.export.line_count, "bytes": path.stat().st_size,
                          "vm_hwm_kb": _vm_hwm_kb()}))


def _export_table() -> Table:
    table = Table(
        "Full exclusion export (PostgreSQL)",
        "PostgreSQL's COPY … TO STDOUT of the same rows (pseudonym, scope, date) into a file, "
        "in its own process, in the same run",
        ["objections", "COPY s", "COPY MB", "first export s (builds the set)",
         "full export s", "ratio to COPY", "peak MB", "target"])
    table.notes.append(
        "full export: the signed file (header, sorted lines, signature) written from "
        "exclusion_entries with COPY (… ORDER BY scope, pseudonym) TO STDOUT, the lines "
        "written by PostgreSQL in the order of the current lines' index; peak MB is the "
        "whole process (Python, the application, its buffers).")
    table.notes.append(
        "first export: the published set built in the database from the objections "
        "(INSERT … SELECT … GROUP BY), then spooled, hashed, signed and written.")
    return table


def _export_row(url: str, count: int, work: Path) -> tuple[list[str], str]:
    """One size: the figures, and the project the objections name."""
    environ = site_environment(work / "instance", DATABASE_URL=url)
    project = _prepare(url, count, work / "instance")
    out = work / f"out-{count}"
    out.mkdir()
    first = _measured("first", url, str(out), environ=environ)
    full = _measured("full", url, str(out), environ=environ)
    copy = _measured("copy", url, str(out), environ=environ)
    ratio = full["seconds"] / copy["seconds"]
    memory = "met" if full["peak_mb"] <= MEMORY_TARGET_MB else "MISSED"
    return [f"{count:,}", f"{copy['seconds']:.2f}", f"{copy['peak_mb']:.0f}",
            f"{first['seconds']:.1f} (peak {first['peak_mb']:.0f} MB)",
            f"{full['seconds']:.2f}", f"{ratio:.2f}", f"{full['peak_mb']:.0f}",
            f"{verdict(ratio, TIME_TARGET, higher_is_better=False)}; {memory} "
            f"(≤ {MEMORY_TARGET_MB} MB)"], project


def _cohort_row(url: str, work: Path, project: str) -> Table:
    """1,000,000 pseudonyms, half excluded, checked through a real gunicorn."""
    from objection.exclusions.verifier import to_modhex

    table = Table(
        "Cohort check of 1,000,000 pseudonyms (PostgreSQL, through HTTP)",
        "a bare Python set lookup of the same pseudonyms in the set of excluded ones, "
        "held in memory",
        ["pseudonyms", "set lookup s", "cohort check s", "ratio", "to remove"])
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            excluded = [row[0] for row in connection.execute(text(
                "SELECT pseudonym FROM exclusion_entries WHERE removed_in IS NULL "
                "AND scope IN ('ALL', :project) LIMIT :half"),
                {"project": project, "half": COHORT // 2})]
            # Build a token for the API.
            from hashlib import sha256
            secret = "hdhp_bench-" + os.urandom(16).hex()
            connection.execute(text(
                "INSERT INTO platform_tokens (name, token_hash, scope, created_at, "
                "created_by, revoked_by) VALUES ('bench', :hash, 'platform:v1', now(), "
                "'bench', '')"), {"hash": sha256(secret.encode()).hexdigest()})
            connection.commit()
    finally:
        engine.dispose()
    others = [to_modhex(os.urandom(32).hex()) for _ in range(COHORT - len(excluded))]
    cohort = excluded + others
    body = work / "cohort.txt"
    body.write_text("".join(p + "\n" for p in cohort), "ascii")
    reference_set = set(excluded)
    started = time.perf_counter()
    found = [p for p in cohort if p in reference_set]
    bare = time.perf_counter() - started
    environ = site_environment(work / "instance", DATABASE_URL=url, GUNICORN_TIMEOUT="300",
                               RATELIMIT_ENABLED="false")
    with gunicorn("wsgi:app", environ, work / "cohort.log") as server:
        request = urllib.request.Request(
            f"{server.base}/api/platform/v1/projects/{project}/cohort-check",
            data=body.open("rb"), method="POST",
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "text/plain",
                     "Content-Length": str(body.stat().st_size)})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = response.read()
        checked = time.perf_counter() - started
    removed = answer.split(b"\n\n", 1)[1].count(b"\n")
    table.rows.append([f"{len(cohort):,}", f"{bare:.3f}", f"{checked:.2f}",
                       f"{checked / bare:.0f}×", f"{removed:,} (expected {len(found):,})"])
    table.notes.append("The NHS's service takes about 40 minutes a batch; the target here is "
                       "seconds, in bounded memory: the cohort, read from the request in "
                       "chunks, is copied into a temporary table (COPY FROM STDIN) and matched "
                       "against the set in one semi-join, the answer spooled to disk.")
    return table


def run(quick: bool = False, postgres_url: str | None = None) -> list[Table]:
    if not postgres_url:
        return [Table("Exclusion exports", "PostgreSQL's COPY", ["benchmark"],
                      [["not measured: set BENCH_DATABASE_URL (make bench sets it when "
                        "PostgreSQL answers on 127.0.0.1)"]])]
    counts = (1_000_000,) if quick else (1_000_000, 5_000_000)
    table = _export_table()
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as temporary:
        work = Path(temporary)
        cohort = None
        for count in counts:
            row, project = _export_row(postgres_url, count, work)
            table.rows.append(row)
            if cohort is None:  # on the 1,000,000 set just built
                cohort = _cohort_row(postgres_url, work, project)
        _reset(postgres_url)
    return [table, cohort] if cohort else [table]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("measure")
    one.add_argument("what", choices=["first", "full", "copy"])
    one.add_argument("url")
    one.add_argument("out", type=Path)
    sub.add_parser("run").add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.command == "measure":
        measure(args.what, args.url, args.out)
        return
    for table in run(quick=getattr(args, "quick", False),
                     postgres_url=os.environ.get("BENCH_DATABASE_URL") or None):
        print(table.text())
    print(f"\n(peak memory of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
