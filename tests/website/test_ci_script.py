""".ci/run: picks the PostgreSQL cluster, waits, creates the test database, fails loudly.

The script runs against stand-ins for PostgreSQL, Redis, apt and make (small shell scripts put
first on the PATH, recording how they were called): nothing real is started or touched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = ("14  main 5433 down postgres /var/lib/postgresql/14/main log\n"
            "16  main 5432 down postgres /var/lib/postgresql/16/main log\n"
            "9.6 main 5432 down postgres /var/lib/postgresql/9.6/main log\n")

STUBS = {
    # pg_isready: ready once a cluster was started (or if told it already runs)
    "pg_isready": '[ -e "$STATE/pg_up" ]',
    "pg_lsclusters": 'printf "%s" "$CLUSTERS"',
    "pg_ctlcluster": 'echo "pg_ctlcluster $*" >> "$STATE/calls"; '
                     '[ -e "$STATE/pg_never_up" ] || touch "$STATE/pg_up"',
    "psql": 'case "$*" in *-lqt*) echo " postgres  | postgres | UTF8"; '
            '[ -e "$STATE/db" ] && echo " test      | postgres | UTF8"; exit 0;; esac; '
            '[ -e "$STATE/login_fails" ] && { echo "FATAL: no pg_hba.conf entry" >&2; exit 2; }; '
            'echo 1',
    "createdb": 'echo "createdb $*" >> "$STATE/calls"; touch "$STATE/db"',
    "redis-cli": '[ -e "$STATE/redis_up" ] && echo PONG',
    "redis-server": 'echo "redis-server" >> "$STATE/calls"; '
                    '[ -e "$STATE/redis_broken" ] || touch "$STATE/redis_up"',
    "chromium": "exit 0",
    "make": 'echo "make $* TEST_DATABASE_URL=$TEST_DATABASE_URL CI=$CI" >> "$STATE/calls"',
    "sleep": "exit 0",
    "mkdir": "exit 0",
}


def run_ci(tmp_path: Path, *flags: str, **replaced: str
           ) -> tuple[subprocess.CompletedProcess, list[str]]:
    stubs, state = tmp_path / "bin", tmp_path / "state"
    stubs.mkdir()
    state.mkdir()
    for name, body in dict(STUBS, **replaced).items():
        path = stubs / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    for flag in flags:
        (state / flag).touch()
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "STATE": str(state), "CLUSTERS": CLUSTERS,
           "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    calls_file = state / "calls"
    calls = calls_file.read_text().splitlines() if calls_file.exists() else []
    return result, calls


def test_starts_the_newest_cluster_on_the_port_creates_the_database_and_runs_the_tests(tmp_path):
    result, calls = run_ci(tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls[0] == "pg_ctlcluster --skip-systemctl-redirect 16 main start"
    assert "createdb -h 127.0.0.1 -p 5432 -U postgres test" in calls
    assert "redis-server" in calls
    assert calls[-1] == ("make test TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test "
                         "CI=true")


def test_running_services_and_an_existing_database_are_left_alone(tmp_path):
    result, calls = run_ci(tmp_path, "pg_up", "db", "redis_up")
    assert result.returncode == 0, result.stderr
    assert calls == ["make test TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test "
                     "CI=true"]


@pytest.mark.parametrize(("flags", "message"), [
    (("pg_never_up",), "PostgreSQL on 127.0.0.1:5432 still not ready"),
    (("login_fails",), "cannot log in to PostgreSQL as postgres"),
    (("redis_broken",), "Redis on 127.0.0.1:6379 still not ready"),
])
def test_an_unreachable_service_stops_ci_with_a_message(tmp_path, flags, message):
    result, calls = run_ci(tmp_path, *flags)
    assert result.returncode != 0
    assert f"CI: {message}" in result.stderr
    assert not any(call.startswith("make") for call in calls)


def test_no_cluster_installed_is_a_clear_failure(tmp_path):
    result, _ = run_ci(tmp_path, pg_lsclusters="exit 0")
    assert result.returncode != 0
    assert "no cluster is installed" in result.stderr
