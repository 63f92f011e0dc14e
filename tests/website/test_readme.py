"""The README's tables stay true: every variable the code reads, with its real default, and every
dependency of pyproject.toml, nothing more."""

from __future__ import annotations

import os
import re
import runpy
import tomllib
from pathlib import Path

import pytest

from core.config import DEV_ONLY_MARKER, ENVIRONMENT_VARIABLES, PROJECT_ROOT, DevelopmentConfig

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
_ENV_READ = re.compile(r"""os\.(?:environ\.get\(|getenv\(|environ\[)\s*["']([A-Z][A-Z0-9_]+)["']""")


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table of ``text`` as rows of cells (header and separator left out)."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def readme_variables() -> dict[str, str]:
    """Variable → its default cell, from every table of the Configuration section."""
    found = {}
    for table in _tables(_section("Configuration")):
        for row in table:
            for name in _names(row[0]):
                found[name] = row[1]
    return found


def variables_the_code_reads() -> set[str]:
    names = set(ENVIRONMENT_VARIABLES) | {"APP_ENV"}
    sources = [ROOT / "gunicorn.conf.py", *ROOT.glob("tests/**/*.py"),
               *ROOT.glob("core/**/*.py"), *ROOT.glob("website/**/*.py"),
               *ROOT.glob("registry/**/*.py"),
               *ROOT.glob("objection/**/*.py"), *ROOT.glob("bench/**/*.py")]
    for path in sources:
        if path.name == "test_readme.py":
            continue
        names |= set(_ENV_READ.findall(path.read_text("utf-8")))
    names |= set(re.findall(r"^([A-Z][A-Z0-9_]*) \?=", (ROOT / "Makefile").read_text("utf-8"),
                            re.M))
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", (ROOT / ".ci" / "run").read_text("utf-8")))
    return names


def test_every_variable_the_code_reads_is_in_the_readme_and_no_other():
    documented, read = set(readme_variables()), variables_the_code_reads()
    assert not read - documented, f"read by the code, not in README: {sorted(read - documented)}"
    assert not documented - read, f"in README, read by no code: {sorted(documented - read)}"


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).replace(str(PROJECT_ROOT), ".")


@pytest.mark.parametrize("name", sorted(ENVIRONMENT_VARIABLES))
def test_readme_gives_the_real_development_default(name):
    default = getattr(DevelopmentConfig, name)
    cell = readme_variables()[name]
    if isinstance(default, list) or default == "":
        assert "empty" in cell, f"{name}: default is empty, README says {cell!r}"
    elif DEV_ONLY_MARKER in str(default):
        assert "development-only" in cell, f"{name}: README says {cell!r}"
    else:
        assert f"`{_shown(default)}`" in cell, f"{name}: default {default!r}, README {cell!r}"


def test_readme_gives_the_real_server_and_make_defaults(monkeypatch):
    for name in ("GUNICORN_BIND", "GUNICORN_TIMEOUT", "GUNICORN_LOG_LEVEL", "FORWARDED_ALLOW_IPS",
                 "RATELIMIT_STORAGE_URI", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    server = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cells = readme_variables()
    for name, setting in (("GUNICORN_BIND", "bind"), ("GUNICORN_TIMEOUT", "timeout"),
                          ("GUNICORN_LOG_LEVEL", "loglevel"),
                          ("FORWARDED_ALLOW_IPS", "forwarded_allow_ips"),
                          ("GUNICORN_THREADS", "threads")):
        assert f"`{server[setting]}`" in cells[name], (name, server[setting], cells[name])
    # The default worker count depends on the machine: the README gives the rule.
    assert server["workers"] == (os.cpu_count() or 1) * 2 + 1
    assert "2 × CPUs + 1" in cells["GUNICORN_WORKERS"]
    for name, value in re.findall(r"^([A-Z][A-Z0-9_]*) \?= (\S+)",
                                  (ROOT / "Makefile").read_text("utf-8"), re.M):
        assert f"`{value}`" in cells[name], (name, value, cells[name])


def _distribution(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+(\[[^\]]*\])?", requirement).group(0)
    return name.lower().replace("_", "-")


def _readme_dependency_tables() -> tuple[set[str], set[str]]:
    runtime, test = _tables(_section("Dependencies"))
    return ({_distribution(n) for row in runtime for n in _names(row[0])},
            {_distribution(n) for row in test for n in _names(row[0])})


def test_dependency_tables_match_pyproject_exactly():
    runtime, test = _readme_dependency_tables()
    declared = {_distribution(r) for r in PYPROJECT["project"]["dependencies"]}
    declared_test = {_distribution(r)
                     for r in PYPROJECT["project"]["optional-dependencies"]["test"]}
    assert runtime == declared, (f"missing from README: {sorted(declared - runtime)}; "
                                 f"not a dependency: {sorted(runtime - declared)}")
    assert test == declared_test, (f"missing from README: {sorted(declared_test - test)}; "
                                   f"not a test dependency: {sorted(test - declared_test)}")


def test_the_readme_test_notices_a_drift():
    """Test of the test: an undocumented variable or an unlisted package is caught."""
    assert "PYOTP" not in variables_the_code_reads()
    runtime, _ = _readme_dependency_tables()
    assert "pyotp" not in runtime  # removed with its feature; comes back with staff log-in
    assert "click" in runtime and "psycopg[binary]" in runtime
    assert {"GUNICORN_BIND", "HOST", "TEST_DB_BACKEND", "CHROMIUM_PATH", "CI"} <= (
        variables_the_code_reads())
