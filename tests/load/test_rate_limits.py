"""Rate limits hold across the real server, whatever gunicorn.conf.py makes of the workers.

gunicorn's default storage (memory://) counts per process: gunicorn.conf.py therefore runs one
worker with it, and the CPU-based number of workers only with shared (Redis) counters. Each
server here is asked for 3 workers; the follow-up form's limit (10 per minute) must let exactly
10 of 15 concurrent POSTs through either way. Also: gunicorn's own log lines are JSON, and a
10 kB search query reaches the app, which answers its own French 400.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command

from tests.conftest import IN_CI
from website.cli import alembic_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.load
FOLLOWUP_PER_MINUTE = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(tmp_path: Path, **environ: str):
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, INSTANCE_DIR=str(tmp_path), APP_ENV="development",
               GUNICORN_WORKERS="3", GUNICORN_BIND=f"127.0.0.1:{port}", **environ)
    env.pop("RATELIMIT_ENABLED", None)
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.terminate()
        pytest.fail("gunicorn did not start:\n" + log_path.read_text())
    return process, log, base, log_path


def _stop(process, log) -> None:
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def memory_server(tmp_path_factory):
    process, log, base, log_path = _start(tmp_path_factory.mktemp("limits-memory"),
                                          RATELIMIT_STORAGE_URI="memory://")
    yield base, log_path
    _stop(process, log)


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


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        connection = redis.Redis.from_url(url, socket_connect_timeout=1)
        connection.ping()
        connection.flushdb()
    except Exception as exc:
        message = f"Redis needed but unreachable at {url}: {exc}"
        if IN_CI:
            pytest.fail(message + " — CI must not skip this test", pytrace=False)
        pytest.skip(message)
    yield url
    connection.flushdb()


@pytest.mark.redis
def test_limit_holds_across_several_workers_with_redis(tmp_path, redis_url):
    process, log, base, log_path = _start(tmp_path, RATELIMIT_STORAGE_URI=redis_url)
    try:
        results = _flood(base)
        booted = [r for r in _json_records(log_path) if "Booting worker" in r["message"]]
    finally:
        _stop(process, log)
    assert len(booted) == 3, "GUNICORN_WORKERS=3 should give 3 workers with Redis"
    assert sum(r[0] != 429 for r in results) == FOLLOWUP_PER_MINUTE, sorted(
        r[0] for r in results)
