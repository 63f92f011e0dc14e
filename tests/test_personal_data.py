"""No NIR, name or birth date in clear in anything a whole test run left behind.

The watch (``tests/personal_data.py``) records every identity submitted through the objection
form during the run and collects logs, objection tables and files; the first test here searches
them all and runs last (``tests/conftest.py`` puts it there). The others test the watch itself.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.personal_data import WATCH, PersonalDataWatch

IDENTITY = {"nir": "2 85 03 75 056 123 17", "birth_name": "Zorglubienne",
            "first_names": "Philomène", "representative_name": "",
            "birth_day": "14", "birth_month": "3", "birth_year": "1985", "email": "p@exemple.fr"}


@pytest.mark.watch
def test_nothing_personal_in_clear_after_the_whole_run(tmp_path_factory):
    if not WATCH.values:
        message = "no identity was submitted in this run: run the objection tests with it"
        if IN_CI:
            pytest.fail(message + " (CI runs the whole suite)", pytrace=False)
        pytest.skip(message)
    WATCH.add_files(tmp_path_factory.getbasetemp())
    assert WATCH.files_read, "the run's files should have been searched"
    findings = WATCH.findings()
    assert not findings, "\n".join(map(str, findings[:20]))
    print(f"searched {len(WATCH.haystacks)} logs, tables and files "
          f"for {len(WATCH.values)} personal values: none found")


def test_the_watch_records_every_form_of_an_identity():
    watch = PersonalDataWatch()
    watch.record_form(IDENTITY)
    assert set(watch.values) == {
        "2 85 03 75 056 123 17", "285037505612317", "2850375056123", "Zorglubienne",
        "Philomène", "1985-03-14", "14/03/1985", "14 mars 1985", "14 March 1985"}
    watch.record_form({"nir": "123", "birth_name": "X", "birth_day": "31", "birth_month": "2",
                       "birth_year": "1985"})  # too short to mean anything, no such date
    assert len(watch.values) == 9


def test_the_first_of_the_month_is_recorded_as_the_site_writes_it():
    watch = PersonalDataWatch()
    watch.record_form({**IDENTITY, "birth_day": "1"})
    assert {"1er mars 1985", "1 mars 1985", "1 March 1985"} <= set(watch.values)


LEAKS = ["285037505612317", "2850375056123", "Zorglubienne", "14 mars 1985", "14/03/1985"]


@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("place", ["log", "table", "database file"])
def test_the_watch_finds_a_leak_wherever_it_is(place, leak):
    watch = PersonalDataWatch()
    watch.record_form(IDENTITY)
    watch.add("a clean log", '{"message": "request", "path": "/opposition"}')
    watch.add_rows("a clean table", [(1, b"\x00sealed", "2026-11-30")])
    # Files are planted outside pytest's temporary folder, which the whole-run search reads.
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "search").mkdir()
        (folder / "search" / "index.seg").write_text(leak)  # the public index is not searched
        if place == "log":
            watch.add("the log", f'{{"message": "filing for {leak}"}}')
        elif place == "table":
            watch.add_rows("the table", [(2, leak.encode(), "2026-11-30")])
        else:
            with sqlite3.connect(folder / "db.sqlite3") as connection:
                connection.execute("CREATE TABLE t (v TEXT)")
                connection.execute("INSERT INTO t VALUES (?)", (f"x{leak}x",))
        watch.add_files(folder)
        expected = {"log": "the log", "table": "the table",
                    "database file": str(folder / "db.sqlite3")}[place]
        findings = watch.findings()
    assert leak in {f.value for f in findings}
    assert {f.where for f in findings} == {expected}


def test_an_e_mail_address_is_not_a_leak():
    watch = PersonalDataWatch()
    watch.record_form(IDENTITY)
    watch.add("a receipt mail", "To: p@exemple.fr")
    assert watch.findings() == []
