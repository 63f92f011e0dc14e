"""A live site in a thread, and Debian's Chromium driven by Playwright.

Chromium is the system one (``/usr/bin/chromium``): Playwright's own browser download cannot
run here. Without Chromium the browser tests are skipped with the reason printed, except in CI,
where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from alembic import command
from werkzeug.serving import make_server

from core.migrations import alembic_config
from tests.conftest import IN_CI, make_test_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + " — CI must not skip browser tests", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site on a free loopback port, on its own migrated SQLite database with demo data."""
    instance = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{instance / 'live.sqlite3'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url, instance)
    runner = app.test_cli_runner()
    if "registry" in app.cli.commands and "demo" in app.cli.commands["registry"].commands:
        result = runner.invoke(args=["registry", "demo", "--count", "80"])
        assert result.exit_code == 0, result.output
        if "reindex" in app.cli.commands["registry"].commands:
            result = runner.invoke(args=["registry", "reindex"])
            assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: page.csp_errors.append(msg.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()
