"""The statistics page at national scale: 100,000 projects and 3.4 million objections (an
NHS-like opt-out rate), on SQLite, rendered once after a change (the figures are computed once
per version of what they count) and then answered from the page cache.

References measured in the same run on the same database: reading every project's facts with
a bare cursor (what the register's figures need), and counting every objection
(``SELECT count(*)``: what grouping them on each request would at least cost).
"""

from __future__ import annotations

import random
import sqlite3
import statistics as stats
import tempfile
import time
from pathlib import Path

from bench.common import Table, flask

_STATUSES = ("depose", "avis-favorable", "autorise", "donnees-disponibles", "en-cours",
             "termine", "abandonne")
_THEMES = ("cardiologie", "oncologie", "pediatrie", "diabete", "neurologie", "prevention")


def _fill(database: Path, projects: int, objections: int, seed: int = 7) -> None:
    """Bulk rows straight into the tables (the service would take hours for this many)."""
    rng = random.Random(seed)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")  # building the fixture, not measuring
    now = "2026-11-01 10:00:00.000000"
    connection.executemany(
        "INSERT INTO organisations (id, slug, name, kind, city, updated_at) "
        "VALUES (?, ?, ?, 'hopital', 'Lyon', ?)",
        [(i, f"organisme-{i}", f"Organisme {i}", now) for i in range(1, 501)])
    sources = [row[0] for row in connection.execute("SELECT id FROM data_sources")]
    rows, links, results, events = [], [], [], []
    for number in range(1, projects + 1):
        reference = f"HDH-{2000 + number // 10000:04d}-{number % 10000:04d}"
        status = rng.choice(_STATUSES)
        ended = f"20{rng.randint(19, 25)}-0{rng.randint(1, 9)}-15" if status in (
            "termine", "abandonne") else None
        rows.append((number, reference, reference.lower(), f"Projet {number}", "Résumé.",
                     "Objectif.", "Intérêt.", rng.randint(1, 500), "", rng.random() < 0.4,
                     False, "autorisation-cnil", False, "plateforme", "", True, "",
                     f'["{rng.choice(_THEMES)}"]', status, "",
                     f"20{rng.randint(19, 26)}-03-01" if status != "depose" else None,
                     ended, now, now))
        links.append((number, rng.choice(sources)))
        if rng.random() < 0.3:
            results.append((number, "article", f"Résultat {number}", "2026-01-01", "", "", "",
                            now))
        if status == "abandonne":
            events.append((number, "donnees-disponibles" if rng.random() < 0.5 else "depose",
                           "2022-01-01", "", ""))
    connection.executemany(
        "INSERT INTO projects (id, reference, slug, title, summary, objective, public_interest, "
        "sponsor_id, population, uses_ai, data_linkage, legal_basis, commercial, "
        "processing_location, processing_location_detail, objections_applied, "
        "objection_exception_reason, themes, status, cnil_decision, authorised_on, "
        "processing_ended_on, created_at, updated_at) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO project_sources VALUES (?, ?)", links)
    connection.executemany(
        "INSERT INTO project_results (project_id, kind, title, published_on, url, doi, "
        "summary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", results)
    connection.executemany(
        "INSERT INTO project_status_events (project_id, status, happened_on, decision_number, "
        "note) VALUES (?, ?, ?, ?, ?)", events)
    connection.execute("UPDATE registry_state SET version = version + 1, changed_at = ? "
                       "WHERE id = 1", (now,))
    connection.execute(f"""
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {objections})
        INSERT INTO objections (id, reference, followup_hash, submission_hash, pseudonym,
            pseudonym_key_id, scope, filer, status, channel, lang, created_at, effective_from,
            answer_due_on, status_changed_at, rejection_reason, withdrawal_review,
            email_sealed, month_filed, age_band, sex, failed_lookups)
        SELECT n, printf('OPP-%08d', n), 'x', printf('%064d', n), printf('%064x', n), 'k',
            'general', 'self', 'received', 'web', 'fr', '{now}', '{now}', '2026-12-01',
            '{now}', '', 0, x'00', printf('2026-%02d', 1 + n % 11),
            CASE n % 6 WHEN 0 THEN '0-17' WHEN 1 THEN '18-29' WHEN 2 THEN '30-44'
                       WHEN 3 THEN '45-59' WHEN 4 THEN '60-74' ELSE '75+' END,
            CASE n % 2 WHEN 0 THEN 'F' ELSE 'M' END, 0
        FROM seq""")  # noqa: S608 -- numbers only
    connection.execute(
        "INSERT INTO objection_filing_counts (month_filed, age_band, sex, filings) "
        "SELECT month_filed, age_band, sex, count(*) FROM objections "
        "GROUP BY month_filed, age_band, sex")
    connection.commit()
    connection.close()


def _timed(function, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return stats.median(samples)


def run(projects: int = 100_000, objections: int = 3_400_000, repeats: int = 3) -> list[Table]:
    from core.extensions import db
    from registry import service
    from website.app import create_app

    table = Table(
        f"The statistics page with {projects:,} projects and {objections:,} objections "
        "(SQLite, ms, median)",
        "a bare cursor reading every project's facts, and SELECT count(*) of the objections, "
        "on the same database in the same run",
        ["what", "time", "ratio to reading the facts"])
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as temporary:
        instance = Path(temporary)
        flask(instance, "db", "upgrade")
        flask(instance, "registry", "sync-sources")
        database = instance / "hdh.sqlite3"
        started = time.perf_counter()
        _fill(database, projects, objections)
        table.notes.append(f"rows written in {time.perf_counter() - started:.0f} s.")
        bare = sqlite3.connect(database)
        facts = _timed(lambda: bare.execute(
            "SELECT p.sponsor_id, p.status, p.authorised_on, p.uses_ai, p.themes, "
            "p.processing_ended_on, (SELECT min(published_on) FROM project_results r "
            "WHERE r.project_id = p.id) FROM projects p").fetchall(), repeats)
        count = _timed(lambda: bare.execute("SELECT count(*) FROM objections").fetchone(),
                       repeats)
        bare.close()
        app = create_app({"INSTANCE_DIR": str(instance), "RATELIMIT_ENABLED": False})
        client = app.test_client()

        def after_a_change() -> None:
            with app.app_context():  # a publish: the register's version moves
                service._touch_register(db.session, None)
                db.session.commit()

        def cold() -> None:
            after_a_change()
            assert client.get("/statistiques").status_code == 200

        rendered = _timed(cold, repeats)
        kept = _timed(lambda: client.get("/statistiques"), repeats * 10)
        app.extensions["database"]["engine"].dispose()
        table.rows += [
            ["reference: a bare cursor reads every project's facts", f"{facts * 1000:.0f}",
             "1.00"],
            ["reference: SELECT count(*) FROM objections", f"{count * 1000:.0f}",
             f"{count / facts:.2f}"],
            ["page rendered after a change (figures recomputed)", f"{rendered * 1000:.0f}",
             f"{rendered / facts:.2f}"],
            ["page answered from the page cache", f"{kept * 1000:.2f}",
             f"{kept / facts:.4f}"]]
    table.notes.append("the objection figures read the counts kept at each filing (a few "
                       "dozen rows), whatever the number of objections; the register's are "
                       "computed once per change of the register.")
    return [table]
