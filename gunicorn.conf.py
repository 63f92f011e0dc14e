"""gunicorn settings; every value can be changed from the environment (see README.md)."""

import multiprocessing
import os

from core.logs import gunicorn_logconfig

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Every core by default. Rate limits (objection filing and follow-up) must count across all
# workers: they are kept in RATELIMIT_STORAGE_URI, by default a SQLite file every process of the
# machine shares (core/ratelimit_sqlite.py), or Redis (redis://…) for several machines. Only
# memory:// counts inside one process: N workers would let N times the limit through, so it gets
# ONE worker (with threads), whatever GUNICORN_WORKERS says.
_storage = os.environ.get("RATELIMIT_STORAGE_URI", "").strip()
_limits_on = os.environ.get("RATELIMIT_ENABLED", "true").strip().lower() in {
    "1", "true", "yes", "on", "oui"}
SHARED_RATE_LIMITS = not _storage.startswith("memory:") or not _limits_on
if SHARED_RATE_LIMITS:
    workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
    threads = int(os.environ.get("GUNICORN_THREADS") or 2)
else:
    workers = 1  # GUNICORN_WORKERS is ignored: see above
    threads = int(os.environ.get("GUNICORN_THREADS") or 8)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5

# Logging: gunicorn's own lines (start-up, worker events, errors) are JSON lines like the app's,
# through the same formatter, which masks NIR-shaped values. The app logs each request itself
# (request id, no query string); gunicorn's access log would repeat it with the query string,
# so it goes nowhere.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = gunicorn_logconfig(loglevel)

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The request line (method, path and query string), bounded: gunicorn refuses a longer one with
# its own 414 before reading it all (an unbounded line of megabytes costs seconds of CPU). 8190
# bytes is gunicorn's most: every search the site accepts (200 characters, even all
# percent-encoded) and a 1,000-character one fit, so a too-long search gets the app's French
# "La recherche est trop longue" page (400); only absurd lines get gunicorn's 414.
limit_request_line = 8190
