#!/usr/bin/env bash
# The whole suite, as `make test` runs it, in two phases so that it stays well under ten minutes
# on a two-core machine:
#   1. the SQLite pass (everything but browser and load tests) and, at the same time on the other
#      core, the PostgreSQL pass on TEST_DATABASE_URL (the tests that use a database);
#   2. the browser and load tests, alone: they measure what a user waits for and drive a real
#      Chromium and gunicorn, so they must not share the machine with another pass.
# Each phase ends with the whole-run search for personal data (the `watch` marker).
# The two passes of phase 1 never share a database (see the `postgres_url` and `redis_url`
# fixtures) nor a temporary directory. Exits non-zero if any pass failed; prints every pass's
# summary at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/hdh-passes.XXXXXX")
status=0

echo "== Phase 1: SQLite pass (no browser, no load)${TEST_DATABASE_URL:+ and, beside it, the PostgreSQL pass}"
postgres_pid=""
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  TEST_DB_BACKEND=postgresql "${PYTEST[@]}" -m "not browser and not load" \
    --basetemp="$LOGS/postgres-tmp" >"$LOGS/postgres.log" 2>&1 &
  postgres_pid=$!
else
  echo "TEST_DATABASE_URL not set: PostgreSQL pass NOT run"
fi

"${PYTEST[@]}" -m "not browser and not load" --basetemp="$LOGS/sqlite-tmp" || status=1

if [ -n "$postgres_pid" ]; then
  postgres_status=0
  wait "$postgres_pid" || postgres_status=$?
  echo "== PostgreSQL pass ($TEST_DATABASE_URL), run beside the SQLite pass"
  cat "$LOGS/postgres.log"
  [ "$postgres_status" = 0 ] || status=1
fi

echo "== Phase 2: browser and load tests, alone on the machine"
"${PYTEST[@]}" -m "browser or load or watch" --basetemp="$LOGS/browser-tmp" || status=1

if [ "$status" = 0 ]; then
  rm -rf "$LOGS"
  echo "== All passes green"
else
  echo "== At least one pass FAILED (logs and temporary files kept in $LOGS)"
fi
exit "$status"
