"""gunicorn settings; every value can be changed from the environment (see README.md)."""

import multiprocessing
import os

from core.logs import gunicorn_logconfig

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Rate limits (objection filing and follow-up: "10 per minute") are counted in the storage named
# by RATELIMIT_STORAGE_URI. With the default memory:// storage each worker process counts on its
# own, so N workers would let N times the limit through. We therefore run ONE worker (with
# threads for concurrency) unless the counters are shared, in Redis (redis://…), or limits are
# off. Several workers or several hosts need RATELIMIT_STORAGE_URI=redis://….
_storage = os.environ.get("RATELIMIT_STORAGE_URI", "") or "memory://"
_limits_on = os.environ.get("RATELIMIT_ENABLED", "true").strip().lower() in {
    "1", "true", "yes", "on", "oui"}
SHARED_RATE_LIMITS = _storage.split(":", 1)[0] != "memory" or not _limits_on
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

# The request line (method, path and query string). gunicorn accepts 1 to 8190 bytes, or 0 for
# no limit of its own; any larger number is silently cut to 8190. A 10 kB search query must reach
# the app, which answers its own French "La recherche est trop longue" page (400), instead of
# gunicorn's bare English "414" page: hence 0. The line is still bounded in front, by the reverse
# proxy (nginx: `large_client_header_buffers 4 32k;`); the app refuses queries over 1,000
# characters.
limit_request_line = 0
