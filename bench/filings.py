"""Objection filings per second, durable and end to end through HTTP (the form, its review step,
the confirmation: three requests, the filing committed before its receipt), on SQLite and on
PostgreSQL, as a share of a bare insert-and-commit loop on the same database with the same
durability settings (SQLite WAL with ``synchronous=FULL``; PostgreSQL ``synchronous_commit=on``)
measured in the same run.

The site runs as ``make run`` serves it, with rate limits off (every filing comes from one
address here, which the per-address limits exist to stop) and mails written to disk.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import text

from bench.common import Table, flask, gunicorn, site_environment, verdict
from core.database import make_engine
from objection.identity import key_of

TARGET = 0.3
CLIENTS = 16
_HIDDEN = re.compile(r'name="(csrf_token|token)" value="([^"]+)"')


def nir(number: int) -> tuple[str, dict[str, str]]:
    """A valid NIR (a woman born in March 1985 in Paris, order ``number``) and the form's
    answers that agree with it."""
    body = f"2850375{number // 1000 % 1000:03d}{number % 1000:03d}"
    return f"{body}{key_of(body):02d}", {"birth_day": "14", "birth_month": "3",
                                         "birth_year": "1985", "sex": "F"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 to the receipt is the answer
        return None


def file_one(base: str, number: int) -> None:
    """One citizen's filing: GET the form, POST it, confirm; fails unless the receipt's 303."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
    page = opener.open(base + "/opposition", timeout=60).read().decode()
    number_nir, identity = nir(number)
    answers = {"filer": "self", "representative_name": "", "scope": "general",
               "project_reference": "", "nir": number_nir, "birth_name": "Martin",
               "first_names": "Claire", "email": f"personne{number}@exemple.fr",
               "consent": "oui", **identity, **dict(_HIDDEN.findall(page))}
    review = opener.open(base + "/opposition", urllib.parse.urlencode(answers).encode(),
                         timeout=60).read().decode()
    confirm = {**answers, **dict(_HIDDEN.findall(review)), "action": "envoyer"}
    try:
        opener.open(base + "/opposition/envoyer", urllib.parse.urlencode(confirm).encode(),
                    timeout=60)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
    else:
        raise RuntimeError("the confirmation did not answer 303 (the receipt)")


def filings_per_second(base: str, seconds: float, first_number: int) -> float:
    """CLIENTS citizens filing one after the other for ``seconds``: filings per second."""
    counter = iter(range(first_number, first_number + 10**6))
    lock = threading.Lock()
    done = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                number = next(counter)
            file_one(base, number)
            done.append(number)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.perf_counter() - started)


def bare_inserts_per_second(url: str, seconds: float) -> float:
    """The reference: one connection inserting a row as wide as a filing and committing each,
    with the site's own engine settings (durability included)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_inserts"))
            connection.execute(text("CREATE TABLE bench_inserts (id SERIAL PRIMARY KEY, "
                                    "a VARCHAR(64), b VARCHAR(200), c BYTEA)"
                                    if engine.dialect.name == "postgresql" else
                                    "CREATE TABLE bench_inserts (id INTEGER PRIMARY KEY, "
                                    "a VARCHAR(64), b VARCHAR(200), c BLOB)"))
        count = 0
        started = time.perf_counter()
        with engine.connect() as connection:
            while time.perf_counter() - started < seconds:
                connection.execute(text("INSERT INTO bench_inserts (a, b, c) VALUES "
                                        "(:a, :b, :c)"),
                                   {"a": "x" * 64, "b": "y" * 200, "c": os.urandom(200)})
                connection.commit()
                count += 1
        elapsed = time.perf_counter() - started
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE bench_inserts"))
        return count / elapsed
    finally:
        engine.dispose()


def _database_row(name: str, url: str | None, instance: Path, seconds: float,
                  rounds: int) -> list[str]:
    extra = {"DATABASE_URL": url} if url else {}
    environ = site_environment(instance, RATELIMIT_ENABLED="false", **extra)
    flask(instance, "db", "upgrade", **({"DATABASE_URL": url} if url else {}))
    database = url or f"sqlite:///{instance / 'hdh.sqlite3'}"
    site, bare = [], []
    with gunicorn("wsgi:app", environ, instance / "filings.log") as server:
        file_one(server.base, 0)  # warm up
        for round_number in range(rounds):
            site.append(filings_per_second(server.base, seconds, (round_number + 1) * 10**5))
            bare.append(bare_inserts_per_second(database, seconds))
    rate, reference = statistics.median(site), statistics.median(bare)
    return [name, f"{reference:,.0f}", f"{rate:,.1f}", f"{rate / reference:.2f}",
            verdict(rate / reference, TARGET)]


def run(rounds: int = 3, seconds: float = 5.0, postgres_url: str | None = None) -> list[Table]:
    table = Table(
        "Objection filings per second (durable, through HTTP: form, review, confirmation)",
        "a bare INSERT + COMMIT loop on the same database, same durability settings, one "
        "connection, measured in turn with the site",
        ["database", "bare inserts/s", "filings/s", "ratio", "target"])
    with tempfile.TemporaryDirectory(prefix="bench-filings-") as temporary:
        table.rows.append(_database_row("SQLite (WAL, synchronous=FULL)", None,
                                        Path(temporary) / "sqlite", seconds, rounds))
        if postgres_url:
            _reset_postgres(postgres_url)
            table.rows.append(_database_row("PostgreSQL (synchronous_commit=on)",
                                            postgres_url, Path(temporary) / "postgres",
                                            seconds, rounds))
        else:
            table.notes.append("PostgreSQL not measured: set BENCH_DATABASE_URL "
                               "(make bench sets it when PostgreSQL answers on 127.0.0.1).")
    table.notes.append(f"{CLIENTS} clients filing one after the other; each filing is three "
                       "requests and one transaction (objection, audit event, counts, mail in "
                       "the outbox), committed before the receipt is shown.")
    return [table]


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
