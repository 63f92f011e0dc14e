"""Rate-limit counters in a SQLite file: what every worker of one machine shares."""

from __future__ import annotations

import threading
import time

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from core.ratelimit_sqlite import SQLiteStorage


@pytest.fixture
def uri(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'counters.sqlite3'}"


def test_the_scheme_gives_the_sqlite_storage(uri):
    assert isinstance(storage_from_string(uri), SQLiteStorage)
    with pytest.raises(ValueError, match="sqlite:////"):
        SQLiteStorage("sqlite://")


def test_two_processes_share_one_count(uri):
    """Two storages on one file stand for two workers: a limit of 3 lets 3 through in all."""
    limit = RateLimitItemPerMinute(3)
    first = FixedWindowRateLimiter(storage_from_string(uri))
    second = FixedWindowRateLimiter(storage_from_string(uri))
    allowed = [limiter.hit(limit, "198.51.100.7") for limiter in (first, second) * 3]
    assert allowed.count(True) == 3
    assert not first.hit(limit, "198.51.100.7")
    assert first.hit(limit, "198.51.100.8")  # another address has its own count


def test_concurrent_counts_are_never_lost(uri):
    storage = SQLiteStorage(uri)
    threads = [threading.Thread(target=lambda: [storage.incr("k", 60) for _ in range(50)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("k") == 400


def test_a_window_restarts_once_it_has_ended(uri):
    storage = SQLiteStorage(uri)
    assert storage.incr("k", 1) == 1
    assert storage.incr("k", 1) == 2
    assert storage.get_expiry("k") > time.time()
    time.sleep(1.1)
    assert storage.get("k") == 0
    assert storage.incr("k", 1) == 1


def test_clear_reset_and_purge(uri):
    storage = SQLiteStorage(uri)
    storage.incr("a", 60)
    storage.incr("b", 60, amount=2)
    storage.incr("gone", 0)
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 2
    assert storage.purge_expired() == 1  # "gone" ended at once
    assert storage.reset() == 1
    assert storage.get("b") == 0 and storage.check()


def test_the_site_counts_in_the_instance_by_default(tmp_path):
    from website.app import build_site_config

    settings = build_site_config({"INSTANCE_DIR": str(tmp_path)}, environ={})
    assert settings["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path / 'ratelimits.sqlite3'}"
