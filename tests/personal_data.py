"""A watch over the whole test run: no NIR, name or birth date may end up in clear anywhere.

Every identity a test app receives in an objection form (from the test client or from a browser
driving the live server) is recorded.
Everything the site could have written while the suite ran is collected: every test's captured
logs and output (the records' raw messages, before the JSON formatter masks anything, so code
that relies on the mask is caught too), the rows of every table the objection package owns
before each test's tables are emptied, and, at the end, every file the run left under pytest's
temporary folder (the session's SQLite database with its WAL and free pages, development mails,
stored documents, gunicorn logs). The last test of the run
(``tests/test_personal_data.py``) searches all of it for every recorded value.

E-mail addresses are not recorded: the receipt mail has to carry the address it goes to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from babel.dates import format_date

from objection.identity import normalise

# Shorter names ("Li", "X") would be found by chance in unrelated text: they prove nothing.
MIN_NAME_LENGTH = 4
# Whoosh's index holds only the public register (and is rebuilt in many tests).
SKIPPED_FOLDERS = {"search"}


@dataclass
class Finding:
    value: str
    kind: str
    where: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value!r} found in clear in {self.where}"


@dataclass
class PersonalDataWatch:
    values: dict[str, str] = field(default_factory=dict)   # value → what it is
    haystacks: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    files_read: int = 0

    # ------------------------------------------------------------------ what must not leak
    def record_form(self, data: Mapping[str, object]) -> None:
        """Record the identity in an objection form submission (any mapping of fields)."""
        def text(name: str) -> str:
            value = data.get(name)
            if isinstance(value, list | tuple):
                value = value[0] if value else ""
            return value.strip() if isinstance(value, str) else ""

        nir = text("nir")
        compact = normalise(nir)
        if len(compact) >= 13:
            self.values.setdefault(nir, "NIR as typed")
            self.values.setdefault(compact, "NIR")
            self.values.setdefault(compact[:13], "NIR without its key")
        for name in ("birth_name", "first_names", "representative_name"):
            if len(text(name)) >= MIN_NAME_LENGTH:
                self.values.setdefault(text(name), name)
        try:
            born = date(int(text("birth_year")), int(text("birth_month")),
                        int(text("birth_day")))
        except (ValueError, OverflowError):
            return
        french, english = (format_date(born, "long", locale=locale)
                           for locale in ("fr_FR", "en_GB"))
        first = french.replace("1 ", "1er ", 1) if born.day == 1 else french  # i18n.format_date
        for written in (born.isoformat(), f"{born:%d/%m/%Y}", french, first, english):
            self.values.setdefault(written, "birth date")

    # ------------------------------------------------------------------ where it must not be
    def add(self, where: str, content: str | bytes) -> None:
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        if content:
            self.haystacks.append((where, content))

    def add_rows(self, where: str, rows: Iterable[Iterable[object]]) -> None:
        self.add(where, "\n".join(" | ".join(_as_text(value) for value in row) for row in rows))

    def add_files(self, folder: Path) -> None:
        """Every file under ``folder``, but the public register's search indexes."""
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or SKIPPED_FOLDERS & set(path.relative_to(folder).parts):
                continue
            self.files_read += 1
            self.add(str(path), path.read_bytes())

    # ------------------------------------------------------------------ the search
    def findings(self) -> list[Finding]:
        found = []
        for where, haystack in self.haystacks:
            for value, kind in self.values.items():
                if value in haystack:
                    found.append(Finding(value, kind, where))
        return found


def _as_text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


WATCH = PersonalDataWatch()
