"""The real server: gunicorn with our config, several workers, concurrent requests."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.load.server import gunicorn

pytestmark = pytest.mark.load


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("gunicorn")) as server:
        yield server.base, server.log_path


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
