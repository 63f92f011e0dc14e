"""Staff as part of the site: ``init_app`` registers the audit trail's commands (the accounts
and the back-office come with the back-office); ``check_config`` has nothing to check yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from staff import cli


def init_app(app: Flask) -> None:
    cli.init_app(app)


def check_config(config: Mapping[str, Any]) -> list[str]:
    return []
