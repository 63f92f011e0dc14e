"""gunicorn.conf.py: how many workers, and why (rate-limit counters must be shared)."""

from __future__ import annotations

import logging.config
import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def load(monkeypatch, **environ: str) -> dict:
    for name in ("RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "GUNICORN_WORKERS",
                 "GUNICORN_THREADS", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize("environ", [{"RATELIMIT_STORAGE_URI": "memory://"},
                                     {"RATELIMIT_STORAGE_URI": "memory://",
                                      "GUNICORN_WORKERS": "6"}])
def test_memory_storage_means_one_worker_with_threads(monkeypatch, environ):
    settings = load(monkeypatch, **environ)
    assert settings["workers"] == 1
    assert settings["threads"] >= 4


def test_by_default_every_core_serves(monkeypatch):
    """A new user's ``make run``: rate limits in the shared SQLite file, so every core."""
    settings = load(monkeypatch)
    assert settings["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert load(monkeypatch, GUNICORN_WORKERS="3")["workers"] == 3


def test_redis_storage_uses_the_cpu_based_worker_count(monkeypatch):
    settings = load(monkeypatch, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert settings["workers"] == multiprocessing.cpu_count() * 2 + 1
    settings = load(monkeypatch, RATELIMIT_STORAGE_URI="redis://r:6379/0", GUNICORN_WORKERS="3")
    assert settings["workers"] == 3


def test_bind_comes_from_the_environment(monkeypatch):
    assert load(monkeypatch)["bind"] == "127.0.0.1:8000"
    assert load(monkeypatch, GUNICORN_BIND="0.0.0.0:9000")["bind"] == "0.0.0.0:9000"


def test_the_request_line_is_bounded(monkeypatch):
    # 0 would mean no limit at all: an 8 MB line costs seconds of CPU.
    assert load(monkeypatch)["limit_request_line"] == 8190


def test_gunicorn_log_config_writes_json_and_drops_the_access_log(monkeypatch, capfd):
    settings = load(monkeypatch)
    assert settings["accesslog"] is None
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logging.config.dictConfig(settings["logconfig_dict"])
    try:
        logging.getLogger("gunicorn.error").info("Booting worker for nir 1 85 05 78 006 084 91")
        logging.getLogger("gunicorn.access").info('"GET /projets?q=secret HTTP/1.1" 200')
        err = capfd.readouterr().err
    finally:
        for name in ("gunicorn.error", "gunicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("{"), lines
    assert '"logger": "gunicorn.error"' in lines[0] and "[masqué]" in lines[0]
    assert "q=secret" not in err
