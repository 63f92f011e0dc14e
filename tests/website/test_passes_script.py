"""tests/passes.sh, what `make test` runs: every pass runs, and any failing pass fails the run.

The script runs in a copy of the project laid out as it expects, with a stand-in for
`.venv/bin/python` that records its arguments and fails when told to: no test suite runs here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The stand-in pytest: records "<backend> <arguments>", fails if $STATE/fail-<backend> exists.
FAKE_PYTHON = """#!/bin/bash
backend=${TEST_DB_BACKEND:-sqlite}
case "$*" in *"browser or load"*) backend=browser;; esac
echo "$backend $*" >> "$STATE/calls"
echo "output of the $backend pass"
[ ! -e "$STATE/fail-$backend" ]
"""


def run_passes(tmp_path: Path, *failing: str, database_url: str = "postgresql://db/test"
               ) -> tuple[subprocess.CompletedProcess, list[str]]:
    project, state = tmp_path / "project", tmp_path / "state"
    (project / "tests").mkdir(parents=True)
    (project / ".venv" / "bin").mkdir(parents=True)
    state.mkdir()
    shutil.copy(ROOT / "tests" / "passes.sh", project / "tests" / "passes.sh")
    python = project / ".venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    for backend in failing:
        (state / f"fail-{backend}").touch()
    env = {"PATH": "/usr/bin:/bin", "STATE": str(state), "TMPDIR": str(tmp_path)}
    if database_url:
        env["TEST_DATABASE_URL"] = database_url
    result = subprocess.run(["bash", str(project / "tests" / "passes.sh")], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    return result, (state / "calls").read_text().splitlines()


def test_runs_the_sqlite_postgresql_and_browser_passes_and_succeeds_when_all_pass(tmp_path):
    result, calls = run_passes(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    backends = sorted(call.split()[0] for call in calls)
    assert backends == ["browser", "postgresql", "sqlite"]
    by_backend = {call.split()[0]: call for call in calls}
    assert '-m not browser and not load' in by_backend["sqlite"]
    assert '-m not browser and not load' in by_backend["postgresql"]
    assert '-m browser or load or watch' in by_backend["browser"]
    # the PostgreSQL pass ran in the background: its output is shown, not lost
    assert "output of the postgresql pass" in result.stdout
    assert "All passes green" in result.stdout
    # the passes never share a temporary directory
    basetemps = {part for call in calls for part in call.split() if part.startswith("--basetemp")}
    assert len(basetemps) == 3


def test_the_passes_never_share_a_temporary_directory_and_clean_up_when_green(tmp_path):
    result, _ = run_passes(tmp_path)
    assert result.returncode == 0
    assert not list(tmp_path.glob("hdh-passes.*")), "a green run leaves nothing behind"


def test_a_failing_postgresql_pass_fails_the_run_and_keeps_its_log(tmp_path):
    result, calls = run_passes(tmp_path, "postgresql")
    assert result.returncode != 0
    assert "FAILED" in result.stdout
    assert "output of the postgresql pass" in result.stdout
    assert any(call.startswith("browser") for call in calls), "later passes still run"
    assert list(tmp_path.glob("hdh-passes.*/postgres.log"))


def test_a_failing_sqlite_or_browser_pass_fails_the_run(tmp_path):
    for backend in ("sqlite", "browser"):
        result, _ = run_passes(tmp_path / backend, backend)
        assert result.returncode != 0, backend


def test_without_a_postgresql_url_says_loudly_that_the_pass_did_not_run(tmp_path):
    result, calls = run_passes(tmp_path, database_url="")
    assert result.returncode == 0
    assert "TEST_DATABASE_URL not set: PostgreSQL pass NOT run" in result.stdout
    assert sorted(call.split()[0] for call in calls) == ["browser", "sqlite"]
