"""What every benchmark shares: a set-up instance of the site, real gunicorn servers, a load
generator, medians, and tables of ratios against a reference measured in the same run."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def machine() -> str:
    """One line: CPU model and count, Python, the date (for docs/performance.md)."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, {time.strftime('%Y-%m-%d')}")


def site_environment(instance: Path, **extra: str) -> dict[str, str]:
    """The environment a new user's ``make run`` has, on ``instance`` (SQLite)."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("DATABASE_URL", "SEARCH_", "RATELIMIT_", "GUNICORN_",
                                      "PAGE_CACHE_"))}
    environ.update({"INSTANCE_DIR": str(instance), "PYTHONPATH": str(ROOT), **extra})
    return environ


def flask(instance: Path, *args: str, **extra: str) -> None:
    subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, check=True,
                   env=site_environment(instance, **extra), stdout=subprocess.DEVNULL)


def set_up(instance: Path, projects: int = 420, **extra: str) -> None:
    """Migrations, the demo register and the search index, as ``make run`` does."""
    flask(instance, "db", "upgrade", **extra)
    flask(instance, "registry", "demo", "--count", str(projects), **extra)
    flask(instance, "registry", "reindex", **extra)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log: Path


@contextlib.contextmanager
def gunicorn(app: str, environ: dict[str, str], log: Path, cwd: Path = ROOT,
             options: tuple[str, ...] = ()) -> Iterator[Server]:
    """A real gunicorn with the project's ``gunicorn.conf.py`` (what ``make run`` serves)."""
    port = free_port()
    environ = {**environ, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [GUNICORN, "--config", str(ROOT / "gunicorn.conf.py"), *options, app],
            cwd=cwd, env=environ, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            time.sleep(0.05)
        yield Server(base, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# --------------------------------------------------------------------------- load

def load_generator() -> str:
    """``wrk`` if it is installed (Debian's package; ``make bench`` installs it)."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does it)")
    return found


def requests_per_second(url: str, seconds: float = 2.0, connections: int = 32,
                        threads: int = 2) -> float:
    """``wrk -t2 -c32`` for ``seconds``: requests per second (non-2xx/3xx answers fail)."""
    result = subprocess.run(
        [load_generator(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed on {url} (exit {result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    if "Non-2xx or 3xx responses" in result.stdout:
        raise RuntimeError(f"errors while loading {url}:\n{result.stdout}")
    for line in result.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(f"no rate in wrk's output:\n{result.stdout}")


def interleaved(urls: dict[str, str], rounds: int = 3, seconds: float = 2.0
                ) -> dict[str, float]:
    """The median rate of each URL, measured in turn ``rounds`` times (so a disturbance on
    the machine hits every side, not one)."""
    samples: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            samples[name].append(requests_per_second(url, seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- reporting

@dataclass
class Table:
    """A result table: a title, what the reference is, columns, rows, and notes."""

    title: str
    reference: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", f"Reference: {self.reference}", "",
                 "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---" for _ in self.columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        widths = [max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c)
                  for i, c in enumerate(self.columns)]
        out = [f"\n{self.title}\n{'=' * len(self.title)}\nreference: {self.reference}",
               "  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True))]
        out += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
                for row in self.rows]
        out += [f"  * {note}" for note in self.notes]
        return "\n".join(out)


def verdict(ratio: float, target: float, higher_is_better: bool = True) -> str:
    met = ratio >= target if higher_is_better else ratio <= target
    sign = "≥" if higher_is_better else "≤"
    return f"{'met' if met else 'MISSED'} ({sign} {target:g})"
