"""The exclusion feed as part of the site: the platform's API, its back-office page, the
commands, the SQLite functions its statements use, the proof shown on pages; ``check_config``
for production (the signing key, the escrow key, pseudonym key ids that fit in a header)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from core.config import DEV_ONLY_MARKER
from objection.exclusions import api, backoffice, cli, dialect, escrow, pages, signing
from objection.exclusions.verifier import KEY_ID, NIR_SHAPE


def init_app(app: Flask) -> None:
    dialect.register_sqlite_functions(app.extensions["database"]["engine"])
    app.register_blueprint(api.bp)
    cli.init_app(app)
    pages.init_app(app)
    backoffice.init_app(app)


def _key_ids(config: Mapping[str, Any]) -> list[str]:
    """Pseudonym key ids are written in every file's header: short, plain, no NIR shape."""
    problems = []
    setting = str(config.get("PSEUDONYM_KEYS") or "")
    for item in filter(None, (part.strip() for part in setting.split(","))):
        key_id = item.partition(":")[0]
        if key_id and not (KEY_ID.fullmatch(key_id) and not NIR_SHAPE.search(key_id)):
            problems.append("PSEUDONYM_KEYS: a key id is 1 to 32 letters, digits, '.', '_' "
                            "or '-'")
    return problems


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Production needs its signing key and the escrow public key, well formed."""
    problems = signing.check_config(config) + escrow.check_config(config)
    if DEV_ONLY_MARKER not in str(config.get("PSEUDONYM_KEYS") or ""):
        problems += _key_ids(config)
    return problems
