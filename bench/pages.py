"""Page throughput under gunicorn, as a share of a bare WSGI app that returns the very same bytes
(status, headers, body) under the same gunicorn settings, measured in the same run.

The site runs as a new user's ``make run`` serves it (``gunicorn.conf.py``, its defaults: every
core, rate limits in the shared SQLite file, the page cache on), on the demo register. Two
figures per page: *kept* (the page cache holds the page: what most readers of a page get) and
*rendered* (the page cache off: every request builds the page, what the first reader after a
change gets, and what a search nobody made before costs).
"""

from __future__ import annotations

import json
import pickle
import tempfile
import urllib.request
from pathlib import Path

from bench.common import Table, gunicorn, interleaved, set_up, site_environment, verdict

PAGES = [
    ("home", "/"),
    ("list", "/projets"),
    ("search results", "/projets?q=cancer"),
    ("project", "/projets/{reference}"),
    ("content", "/comprendre/snds"),
    ("API list", "/api/v1/projects"),
    ("statistics", "/statistiques"),
    ("objection form", "/opposition"),
]
TARGETS = {"project": 0.5, "list": 0.5, "content": 0.5, "search results": 0.3}
# Response headers gunicorn writes itself (the bare app must not send them twice).
_GUNICORN_HEADERS = {"date", "server", "connection", "content-length", "transfer-encoding"}

BARE_APP = '''
import pickle

with open({pages!r}, "rb") as handle:
    PAGES = pickle.load(handle)


def app(environ, start_response):
    key = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        key += "?" + environ["QUERY_STRING"]
    status, headers, body = PAGES.get(key, ("200 OK", [("Content-Type", "text/plain")], b"ok"))
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]
'''


def _capture(base: str, paths: list[str]) -> dict[str, tuple[str, list, bytes]]:
    pages = {}
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            headers = [(k, v) for k, v in response.getheaders()
                       if k.lower() not in _GUNICORN_HEADERS]
            pages[path] = (f"{response.status} {response.reason}", headers, response.read())
    return pages


def run(rounds: int = 3, seconds: float = 2.0) -> list[Table]:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as temporary:
        work = Path(temporary)
        instance = work / "instance"
        set_up(instance)
        environ = site_environment(instance)
        with gunicorn("wsgi:app", environ, work / "site.log") as site:
            with urllib.request.urlopen(site.base + "/api/v1/projects?par_page=1",
                                        timeout=30) as response:
                reference = json.load(response)["data"][0]["reference"]
            paths = [path.format(reference=reference) for _name, path in PAGES]
            (work / "pages.pkl").write_bytes(pickle.dumps(_capture(site.base, paths)))
            (work / "bare.py").write_text(BARE_APP.replace("{pages!r}",
                                                           repr(str(work / "pages.pkl"))),
                                          "utf-8")
            cold_env = {**environ, "PAGE_CACHE_ENABLED": "false"}
            with gunicorn("bare:app", environ, work / "bare.log", cwd=work) as bare, \
                    gunicorn("wsgi:app", cold_env, work / "cold.log") as cold:
                table = Table(
                    "Page throughput (requests per second, wrk -t2 -c32)",
                    "a bare WSGI app returning the same bytes under the same gunicorn "
                    "settings (gunicorn.conf.py), measured in turn with the site",
                    ["page", "bare", "site, kept", "ratio", "site, rendered", "ratio",
                     "target (kept)"])
                for (name, _template), path in zip(PAGES, paths, strict=True):
                    rates = interleaved({"bare": bare.base + path, "kept": site.base + path,
                                         "rendered": cold.base + path}, rounds, seconds)
                    kept, rendered = rates["kept"] / rates["bare"], \
                        rates["rendered"] / rates["bare"]
                    target = TARGETS.get(name)
                    table.rows.append([
                        name, f"{rates['bare']:,.0f}", f"{rates['kept']:,.0f}",
                        f"{kept:.2f}", f"{rates['rendered']:,.0f}", f"{rendered:.2f}",
                        verdict(kept, target) if target else "—"])
                table.notes.append(
                    "kept: the page cache (core/page_cache.py) answers before Flask runs, "
                    "after checking the versions the page was built from; rendered: "
                    "PAGE_CACHE_ENABLED=false, every request builds its page.")
                table.notes.append(
                    "the objection form is never kept (it carries a form token and sets a "
                    "session cookie): both of its columns are rendered.")
    return [table]
