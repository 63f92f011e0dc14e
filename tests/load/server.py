"""A real gunicorn serving the site with our gunicorn.conf.py, for the load tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command

from core.migrations import alembic_config

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str       #: http://127.0.0.1:PORT
    log_path: Path  #: gunicorn's and the app's output


@contextmanager
def gunicorn(instance: Path, **environ: str) -> Iterator[Server]:
    """Migrate a SQLite database in ``instance``, start gunicorn on a free port (3 workers asked
    for, in the development profile) with ``environ`` added, wait until /healthz answers, and
    stop it on exit."""
    url = f"sqlite:///{instance / 'site.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, INSTANCE_DIR=str(instance), APP_ENV="development",
               GUNICORN_WORKERS="3", GUNICORN_BIND=f"127.0.0.1:{port}", **environ)
    env.pop("RATELIMIT_ENABLED", None)
    log_path = instance / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                pytest.fail("gunicorn did not start:\n" + log_path.read_text())
            yield Server(base, log_path)
        finally:
            process.terminate()
            process.wait(timeout=20)
