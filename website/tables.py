"""Every table of the site: importing the packages' models fills ``Base.metadata``, which
Alembic's autogenerate and the tests' clean-up read."""

from __future__ import annotations

import importlib

MODEL_MODULES = ("staff.audit", "staff.models", "registry.models", "objection.models",
                 "objection.letters", "objection.followup", "objection.exclusions.models")


def import_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
