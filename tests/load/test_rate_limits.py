"""Rate limits hold across the real server, whatever gunicorn.conf.py makes of the workers.

gunicorn's default storage (memory://) counts per process: gunicorn.conf.py therefore runs one
worker with it, and the CPU-based number of workers only with shared (Redis) counters. Each
server here is asked for 3 workers; the follow-up form's limit per minute
(``objection.limits.FOLLOWUP_POSTS``) must let exactly that many of five more concurrent POSTs
through either way. Also: gunicorn's own log lines are JSON (a request line it refuses, a NIR
percent-encoded in it, is masked), a long search query reaches the app, which answers its
own French 400, and an absurd request line is refused by gunicorn before it is read.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse_many

from objection.limits import FOLLOWUP_POSTS
from tests.load.server import gunicorn

pytestmark = pytest.mark.load
FOLLOWUP_PER_MINUTE = next(item.amount for item in parse_many(FOLLOWUP_POSTS)
                           if item.GRANULARITY.name == "minute")


@pytest.fixture(scope="module")
def memory_server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("limits-memory"),
                  RATELIMIT_STORAGE_URI="memory://") as server:
        yield server.base, server.log_path


def _post(url: str) -> tuple[int, str, str | None]:
    request = urllib.request.Request(url, data=b"reference=OPP-0000-0000-0&code=x",
                                     method="POST", headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Retry-After")


def _flood(base: str, count: int = FOLLOWUP_PER_MINUTE + 5) -> list[tuple[int, str, str | None]]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: _post(base + "/opposition/suivi"), range(count)))


def _json_records(log_path: Path) -> list[dict]:
    time.sleep(0.3)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, f"log lines that are not JSON: {not_json[:5]}"
    return [json.loads(line) for line in lines]


def test_limit_holds_across_the_real_server_with_memory_storage(memory_server):
    base, _ = memory_server
    results = _flood(base)
    limited = [r for r in results if r[0] == 429]
    assert len(results) - len(limited) == FOLLOWUP_PER_MINUTE, sorted(r[0] for r in results)
    _, html, retry_after = limited[0]
    assert "Trop de demandes" in html and "per 1 minute" not in html
    assert 'value="OPP-0000-0000-0"' in html  # the follow-up form again, its reference kept
    assert retry_after and int(retry_after) > 0


def test_memory_storage_runs_one_worker_whatever_is_asked(memory_server):
    _, log_path = memory_server
    booted = [r for r in _json_records(log_path)
              if r.get("logger") == "gunicorn.error" and "Booting worker" in r["message"]]
    assert len(booted) == 1, booted


def test_gunicorn_own_lines_are_json(memory_server):
    _, log_path = memory_server
    records = _json_records(log_path)
    own = [r for r in records if r.get("logger") == "gunicorn.error"]
    assert any("Listening at" in r["message"] for r in own), own
    assert all({"time", "level", "message"} <= set(r) for r in own)
    assert not [r for r in records if r.get("logger") == "gunicorn.access"]


def test_a_request_line_gunicorn_refuses_is_logged_without_the_nir_in_it(memory_server):
    """gunicorn logs a request line it cannot parse as it came: a NIR percent-encoded in its
    path must be masked there too (its lines go through core.logs' formatter)."""
    base, log_path = memory_server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        # a raw "é" (not percent-encoded) makes the whole line invalid for gunicorn
        connection.sendall(b"GET /projets/1%2085%2003%2075%20801%20276%2057/\xc3\xa9 HTTP/1.1"
                           b"\r\nHost: localhost\r\n\r\n")
        answer = connection.recv(1024)
    assert answer.startswith(b"HTTP/1.1 400")
    refused = [r for r in _json_records(log_path) if "Invalid request" in r["message"]]
    assert refused and all("/projets/[masqué]/" in r["message"] for r in refused), refused
    assert "%2085" not in log_path.read_text()


def test_a_long_search_query_gets_the_sites_french_400(memory_server):
    """The request line is bounded (gunicorn.conf.py), yet a search far over the site's limit
    still reaches the app, which explains in French."""
    base, _ = memory_server
    try:
        urllib.request.urlopen(base + "/projets?q=" + "%C3%A9" * 1_000, timeout=10)
        pytest.fail("a 1,000-character query was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 400, error.code
        html = error.read().decode()
    assert "La recherche est trop longue" in html and 'class="site-header"' in html


def test_an_absurd_request_line_is_refused_before_it_is_read(memory_server):
    """An unbounded line of megabytes cost seconds of CPU: gunicorn now refuses it after its
    first 8 kB, and the server answers the next request as before."""
    host, port = memory_server[0].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /projets?q=" + b"a" * 65_536)
        # the server may close the connection after its answer: what we want
        with contextlib.suppress(OSError):
            connection.sendall(b"a" * (16 * 1024 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = connection.recv(1024)
    assert answer.startswith((b"HTTP/1.1 414", b"HTTP/1.1 400")), answer[:100]
    with urllib.request.urlopen(memory_server[0] + "/healthz", timeout=10) as response:
        assert response.status == 200


@pytest.mark.redis
def test_limit_holds_across_several_workers_with_redis(tmp_path, redis_url):
    with gunicorn(tmp_path, RATELIMIT_STORAGE_URI=redis_url) as server:
        results = _flood(server.base)
        booted = [r for r in _json_records(server.log_path) if "Booting worker" in r["message"]]
    assert len(booted) == 3, "GUNICORN_WORKERS=3 should give 3 workers with Redis"
    assert sum(r[0] != 429 for r in results) == FOLLOWUP_PER_MINUTE, sorted(
        r[0] for r in results)


def test_limit_holds_across_several_workers_with_the_default_storage(tmp_path):
    """A new user's ``make run``: no RATELIMIT_STORAGE_URI, so counters in a SQLite file every
    worker shares (core/ratelimit_sqlite.py), and every core serves."""
    with gunicorn(tmp_path) as server:
        results = _flood(server.base)
        booted = [r for r in _json_records(server.log_path) if "Booting worker" in r["message"]]
    assert len(booted) == 3, "GUNICORN_WORKERS=3 should give 3 workers with shared counters"
    assert sum(r[0] != 429 for r in results) == FOLLOWUP_PER_MINUTE, sorted(
        r[0] for r in results)
    assert (tmp_path / "ratelimits.sqlite3").exists()
