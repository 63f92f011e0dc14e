"""Rate limits hold across the real server, whatever gunicorn.conf.py makes of the workers.

gunicorn's default storage (memory://) counts per process: gunicorn.conf.py therefore runs one
worker with it, and the CPU-based number of workers only with shared (Redis) counters. Each
server here is asked for 3 workers; the follow-up form's limit (10 per minute) must let exactly
10 of 15 concurrent POSTs through either way. Also: gunicorn's own log lines are JSON, and a
10 kB search query reaches the app, which answers its own French 400.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.load.server import gunicorn

pytestmark = pytest.mark.load
FOLLOWUP_PER_MINUTE = 10


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


def _flood(base: str, count: int = 15) -> list[tuple[int, str, str | None]]:
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


def test_a_10_kb_search_query_gets_the_sites_french_400(memory_server):
    base, _ = memory_server
    try:
        urllib.request.urlopen(base + "/projets?q=" + "a" * 10_000, timeout=10)
        pytest.fail("a 10 kB query was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 400, error.code
        html = error.read().decode()
    assert "La recherche est trop longue" in html and 'class="site-header"' in html


@pytest.mark.redis
def test_limit_holds_across_several_workers_with_redis(tmp_path, redis_url):
    with gunicorn(tmp_path, RATELIMIT_STORAGE_URI=redis_url) as server:
        results = _flood(server.base)
        booted = [r for r in _json_records(server.log_path) if "Booting worker" in r["message"]]
    assert len(booted) == 3, "GUNICORN_WORKERS=3 should give 3 workers with Redis"
    assert sum(r[0] != 429 for r in results) == FOLLOWUP_PER_MINUTE, sorted(
        r[0] for r in results)
