"""The real server: gunicorn with our config, several workers, concurrent requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command

from website.cli import alembic_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.load


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("gunicorn")
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, INSTANCE_DIR=str(instance), APP_ENV="development",
               GUNICORN_WORKERS="3", GUNICORN_BIND=f"127.0.0.1:{port}")
    log = (instance / "server.log").open("w")
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
        pytest.fail("gunicorn did not start:\n" + (instance / "server.log").read_text())
    yield base, instance / "server.log"
    process.terminate()
    process.wait(timeout=20)
    log.close()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorn_serves_concurrent_requests(gunicorn_server):
    base, _ = gunicorn_server
    paths = ["/", "/en/", "/healthz", "/comprendre", "/plan-du-site", "/en/vos-droits"] * 40
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda p: _get(base + p), paths))
    assert statuses.count(200) == len(paths), sorted(set(statuses))


def test_gunicorn_logs_json_lines_without_query_strings(gunicorn_server):
    base, log_path = gunicorn_server
    _get(base + "/comprendre?q=nir-185057800608491")
    time.sleep(0.5)
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    access = [r for r in records if r.get("logger") == "hdh.access"]
    assert access, "no access log line"
    assert all("request_id" in r and "?" not in r["path"] for r in access)
    assert "185057800608491" not in log_path.read_text()
