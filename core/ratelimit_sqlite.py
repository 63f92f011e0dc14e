"""Rate-limit counters in a SQLite file that every worker of the machine shares.

``RATELIMIT_STORAGE_URI=sqlite:////absolute/path/ratelimits.sqlite3`` (the default: a file in
``INSTANCE_DIR``). The ``memory://`` storage counts inside one process, so several gunicorn
workers would each let the whole limit through; Redis shares counters between machines but is
one more service to run. This file shares them between the processes of one machine, with no
service at all: each count is one SQLite statement (an upsert that also restarts an expired
window), atomic under SQLite's write lock. Several machines need Redis (``redis://…``).

Fixed windows, the limiter's default strategy (``RATELIMIT_STRATEGY``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from limits.storage import Storage

_SCHEMA = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)"""
_INCREMENT = """
INSERT INTO counters (key, value, expires) VALUES (:key, :amount, :expires)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires <= :now THEN :amount ELSE value + :amount END,
    expires = CASE WHEN expires <= :now THEN :expires ELSE expires END
RETURNING value"""


class SQLiteStorage(Storage):
    """A ``limits`` storage in one SQLite file (scheme ``sqlite``)."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = urlparse(uri or "").path
        if not path or path == "/":
            raise ValueError("RATELIMIT_STORAGE_URI=sqlite:////absolute/path/file.sqlite3")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._counts = 0
        self._connection().execute(_SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # counters, not records
            self._local.connection = connection
        return connection

    PURGE_EVERY = 1000  # counts between two purges of ended windows

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        row = self._connection().execute(_INCREMENT, {
            "key": key, "amount": amount, "expires": now + expiry, "now": now}).fetchone()
        self._counts += 1
        if self._counts % self.PURGE_EVERY == 0:
            self.purge_expired()
        return int(row[0])

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT value FROM counters WHERE key = ? AND expires > ?",
            (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute("SELECT expires FROM counters WHERE key = ?",
                                          (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        connection = self._connection()
        count = connection.execute("SELECT count(*) FROM counters").fetchone()[0]
        connection.execute("DELETE FROM counters")
        return int(count)

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        """Delete the windows that ended (the counters of a day's visitors would add up
        otherwise): run every ``PURGE_EVERY`` counts; no count depends on it."""
        return self._connection().execute("DELETE FROM counters WHERE expires <= ?",
                                          (time.time(),)).rowcount
