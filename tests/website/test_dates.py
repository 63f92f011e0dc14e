"""Dates read as people write them, in each language."""

from __future__ import annotations

from datetime import UTC, date, datetime


def _render(app, path: str, source: str, **values) -> str:
    from core.i18n import LANG_ENVIRON_KEY

    lang = "en" if path.startswith("/en/") else "fr"  # what the language middleware sets
    with app.test_request_context(path, environ_base={LANG_ENVIRON_KEY: lang}):
        return app.jinja_env.from_string(source).render(**values)


def test_the_first_of_the_month_is_1er_in_french(app):
    source = "{{ format_date(d, format='long') }}"
    assert _render(app, "/", source, d=date(2026, 12, 1)) == "1er décembre 2026"
    assert _render(app, "/", source, d=date(2026, 12, 2)) == "2 décembre 2026"
    assert _render(app, "/", source, d=date(2026, 12, 11)) == "11 décembre 2026"
    assert _render(app, "/", "{{ format_date(d, format='full') }}",
                   d=date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert _render(app, "/", "{{ format_date(d, format='short') }}",
                   d=date(2026, 12, 1)) == "01/12/2026"


def test_the_first_is_judged_in_the_site_time_zone(app):
    # 23:30 UTC on 30 November is 00:30 on 1 December in Paris.
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert _render(app, "/", "{{ format_moment(m) }}", m=moment) == "1er décembre 2026 à 00:30"
    assert _render(app, "/", "{{ format_date(m, format='long') }}",
                   m=datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == "1er décembre 2026"


def test_english_pages_keep_british_dates(app):
    source = "{{ format_date(d, format='long') }}"
    assert _render(app, "/en/", source, d=date(2026, 12, 1)) == "1 December 2026"
